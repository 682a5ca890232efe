// Floor: node:http answering 1 KiB itself (nothing upstream), with the headers an nginx origin sends.
// Usage: node bench/floor/node-http.ts PORT
import http from 'node:http';

const body = Buffer.alloc(1024, 'x');
const headers = ['Server', 'nginx/1.22.1', 'Date', new Date().toUTCString(), 'Content-Type', 'application/octet-stream', 'Content-Length', '1024', 'ETag', '"6560a0e0-400"', 'Accept-Ranges', 'bytes'];
http
  .createServer({ keepAliveTimeout: 65_000 }, (_req, res) => {
    res.sendDate = false;
    res.writeHead(200, headers);
    res.end(body);
  })
  .listen(Number(process.argv[2]), '127.0.0.1');
