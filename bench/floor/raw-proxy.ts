// Floor: the barest proxy on raw sockets — net server, a head parser, pooled TLS sockets with the
// client certificate, Content-Length bodies only, hop-by-hop Connection dropped (a visitor's
// `Connection: close` honoured after the answer), nothing else.
// What a Node proxy that bypasses node:http and undici costs on this machine.
// With TLS_PORT SERVER_CERT SERVER_KEY it also serves HTTPS visitors there (a plain tls.Server, no
// SNI or ALPN callbacks, no session cache): the floor of Node's own TLS.
// Usage: node bench/floor/raw-proxy.ts PORT ORIGIN_URL CERT KEY SERVERNAME [TLS_PORT SERVER_CERT SERVER_KEY]
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

const [port, origin, cert, key, servername, tlsPort, serverCert, serverKey] = process.argv.slice(2);
const o = new URL(origin);
const ctx = tls.createSecureContext({ cert: readFileSync(cert), key: readFileSync(key) });
const idle: tls.TLSSocket[] = [];
let session: Buffer | undefined;

function upstream(): tls.TLSSocket {
  const s = idle.pop();
  if (s !== undefined) return s;
  const t = tls.connect({ host: o.hostname, port: Number(o.port), secureContext: ctx, servername, rejectUnauthorized: false, session });
  t.on('session', (x: Buffer) => (session = x));
  t.setNoDelay(true);
  return t;
}

const CRLF2 = Buffer.from('\r\n\r\n');

function serve(visitor: net.Socket): void {
    let pending: Buffer | null = null;
    visitor.on('data', (chunk: Buffer) => {
      const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
      const end = buf.indexOf(CRLF2);
      if (end < 0) {
        pending = buf;
        return;
      }
      pending = null;
      const head = buf.toString('latin1', 0, end);
      const close = /\r\nconnection: *close/i.test(head);
      const lines = head.split('\r\n');
      let out = lines[0] + '\r\n';
      for (let i = 1; i < lines.length; i++) {
        const l = lines[i];
        if (l.length > 11 && (l.charCodeAt(0) | 0x20) === 99 && l.slice(0, 11).toLowerCase() === 'connection:') continue;
        out += l + '\r\n';
      }
      out += '\r\n';
      const up = upstream();
      let resp: Buffer | null = null;
      let remaining = -1;
      const onData = (c: Buffer) => {
        if (remaining < 0) {
          const b = resp === null ? c : Buffer.concat([resp, c]);
          const e = b.indexOf(CRLF2);
          if (e < 0) {
            resp = b;
            return;
          }
          const h = b.toString('latin1', 0, e);
          const m = /\r\ncontent-length:\s*(\d+)/i.exec(h);
          remaining = m === null ? 0 : Number(m[1]);
          const hl = h.split('\r\n');
          let rh = hl[0] + '\r\n';
          for (let i = 1; i < hl.length; i++) if (!(hl[i].length > 11 && hl[i].slice(0, 11).toLowerCase() === 'connection:')) rh += hl[i] + '\r\n';
          // What it honours it says: a visitor that asked to close is told so (wrk counts a close after
          // an answer without it as a read error).
          rh += close ? 'connection: close\r\n\r\n' : '\r\n';
          const body = b.subarray(e + 4);
          remaining -= body.length;
          visitor.write(Buffer.concat([Buffer.from(rh, 'latin1'), body]));
        } else {
          remaining -= c.length;
          visitor.write(c);
        }
        if (remaining === 0) {
          up.off('data', onData);
          idle.push(up);
          if (close) {
            if (visitor.writableLength === 0) visitor.destroy();
            else visitor.end();
          }
        }
      };
      up.on('data', onData);
      up.write(out, 'latin1');
    });
    visitor.on('error', () => {});
}

net.createServer({ noDelay: true }, serve).listen(Number(port), '127.0.0.1');
if (tlsPort !== undefined) {
  tls.createServer({ cert: readFileSync(serverCert), key: readFileSync(serverKey), noDelay: true }, serve).listen(Number(tlsPort), '127.0.0.1');
}
