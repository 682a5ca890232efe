// Floor: a net server answering 1 KiB itself on the raw socket (nothing upstream, no parsing beyond
// finding the end of the head); closes after the answer when the request says Connection: close.
// What accepting and answering a connection costs Node before any proxying.
// Usage: node bench/floor/raw-server.ts PORT
import net from 'node:net';

const answer = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 1024\r\nETag: "6560a0e0-400"\r\n\r\n' + 'x'.repeat(1024),
  'latin1',
);
const CRLF2 = Buffer.from('\r\n\r\n');
const CLOSE = /\r\nconnection: *close/i;

net
  .createServer({ noDelay: true }, (socket) => {
    socket.on('data', (chunk: Buffer) => {
      const end = chunk.indexOf(CRLF2);
      if (end < 0) return;
      socket.write(answer);
      if (CLOSE.test(chunk.toString('latin1', 0, end))) {
        if (socket.writableLength === 0) socket.destroy();
        else socket.end();
      }
    });
    socket.on('error', () => {});
  })
  .listen(Number(process.argv[2]), '127.0.0.1');
