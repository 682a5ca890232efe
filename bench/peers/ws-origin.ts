// The WebSocket scenario's origin, run as its own process: HTTPS that requires a client
// certificate from the bench's client CA (as an AOP origin does), echoing every WebSocket message
// (the `ws` package), and GET /1k answered with 1 KiB so proxies can be probed like the main bench's.
//
//   node bench/peers/ws-origin.ts PORT CERT KEY CLIENT_CA
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { WebSocketServer, type RawData } from 'ws';

const [port, cert, key, clientCa] = process.argv.slice(2);
const ONE_K = Buffer.alloc(1024, 'x');
const server = https.createServer(
  { cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(clientCa), requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 600_000 },
  (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': ONE_K.length });
    res.end(ONE_K);
  },
);
// No compression: the bench measures relaying, not deflate.
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data: RawData, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
