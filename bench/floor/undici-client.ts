// Floor: undici alone, 50 concurrent request loops to the origin over TLS with the client
// certificate, through a raw dispatch handler. Prints its own CPU per request (all threads).
// Usage: node bench/floor/undici-client.ts ORIGIN_URL CERT KEY SERVERNAME SECONDS
import { readFileSync } from 'node:fs';
import { Pool, type Dispatcher } from 'undici';

const [origin, cert, key, servername, seconds] = process.argv.slice(2);
const pool = new Pool(origin, { connect: { cert: readFileSync(cert), key: readFileSync(key), rejectUnauthorized: false, servername }, keepAliveTimeout: 600_000 });
const headers = ['host', servername, 'user-agent', 'floor', 'x-forwarded-for', '127.0.0.1', 'x-forwarded-proto', 'http', 'cf-ray', '0123456789abcdef-FLOOR'];
const until = performance.now() + Number(seconds) * 1000;
let done = 0;
let live = 50;
const cpu0 = process.cpuUsage();

const handler: Dispatcher.DispatchHandler = {
  onConnect() {},
  onHeaders: () => true,
  onData: () => true,
  onError(err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  },
  onComplete() {
    done++;
    if (performance.now() < until) send();
    else if (--live === 0) finish();
  },
};

function send(): void {
  pool.dispatch({ path: '/1k', method: 'GET', headers, servername } as Dispatcher.DispatchOptions, handler);
}

function finish(): void {
  const c = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ requests: done, cpuUs: (c.user + c.system) / done, rps: done / Number(seconds) }) + '\n');
  void pool.close();
}

for (let i = 0; i < 50; i++) send();
