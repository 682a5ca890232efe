// The WebSocket scenario's load, run as its own process: N connections through a proxy, each
// sending a message and waiting for its echo before the next (closed loop). Prints `ready` once
// every connection is open, then after the run one JSON line: messages echoed, seconds, failures.
//
//   node bench/lib/ws-load.ts URL HOST CONNECTIONS SECONDS BYTES
import { WebSocket } from 'ws';

const [url, host, connections, seconds, bytes] = process.argv.slice(2);
const n = Number(connections);
const payload = Buffer.alloc(Number(bytes), 'm');
const sockets: WebSocket[] = [];
let messages = 0;
let failures = 0;
let running = false;

await Promise.all(
  Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { host }, perMessageDeflate: false });
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.on('close', () => {
      if (running) failures++;
    });
    ws.on('message', () => {
      if (!running) return;
      messages++;
      ws.send(payload);
    });
    sockets.push(ws);
  })),
);
process.stdout.write('ready\n');
running = true;
const started = performance.now();
for (const ws of sockets) ws.send(payload);
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
running = false;
const elapsed = (performance.now() - started) / 1000;
for (const ws of sockets) ws.terminate();
process.stdout.write(JSON.stringify({ messages, seconds: elapsed, failures }) + '\n');
