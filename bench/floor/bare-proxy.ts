// Floor: the barest node:http + undici proxy — one Pool, a raw dispatch handler, hop-by-hop
// Connection header dropped, nothing else (no routing, logging, metrics, ray ids).
// Usage: node bench/floor/bare-proxy.ts PORT ORIGIN_URL CERT KEY SERVERNAME
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Pool, type Dispatcher } from 'undici';

const [port, origin, cert, key, servername] = process.argv.slice(2);
const pool = new Pool(origin, { connect: { cert: readFileSync(cert), key: readFileSync(key), rejectUnauthorized: false, servername }, keepAliveTimeout: 600_000 });

class Forward implements Dispatcher.DispatchHandler {
  readonly res: http.ServerResponse;
  resume: () => void = () => {};
  constructor(res: http.ServerResponse) {
    this.res = res;
  }
  onConnect(): void {}
  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    this.resume = resume;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toString('latin1');
      if (name.length === 10 && name.toLowerCase() === 'connection') continue;
      out.push(name, raw[i + 1].toString('latin1'));
    }
    this.res.sendDate = false;
    this.res.writeHead(status, out);
    return true;
  }
  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resume);
    return false;
  }
  onComplete(): void {
    this.res.end();
  }
  onError(): void {
    this.res.destroy();
  }
}

http
  .createServer((req, res) => {
    const raw = req.rawHeaders;
    const headers: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (!(raw[i].length === 10 && raw[i].toLowerCase() === 'connection')) headers.push(raw[i], raw[i + 1]);
    pool.dispatch({ path: req.url!, method: req.method as Dispatcher.HttpMethod, headers, body: null, servername } as Dispatcher.DispatchOptions, new Forward(res));
  })
  .listen(Number(port), '127.0.0.1');
