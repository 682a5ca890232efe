// Connection, Upgrade and the other hop-by-hop fields (RFC 9110 §7.6.1, §7.8): none of them goes
// to the origin, nor any header the Connection header names — except that a bodiless upgrade
// request goes on with `connection: upgrade` and its Upgrade (never h2c), and stays an ordinary
// request until the origin answers 101 (then the connection is a tunnel, test/edge/websocket.test.ts);
// an upgrade with a body is an ordinary request whose body is framed as usual. Expect:
// 100-continue is answered by the edge itself. After llhttp's request/connection.md.
import { HOST, type RequestCase } from './types.ts';

const h = `Host: ${HOST}\r\n`;

export const connectionCases: RequestCase[] = [
  { name: 'Connection: close is not passed on', send: `PUT /url HTTP/1.1\r\n${h}Connection: close\r\nContent-Length: 0\r\n\r\n`, expect: { forward: [{ line: 'PUT /url HTTP/1.1', lacks: ['connection'] }] } },
  { name: 'the headers Connection names are not passed on', send: `GET /n HTTP/1.1\r\n${h}Connection: x-secret, keep-alive\r\nX-Secret: 1\r\nX-Public: 2\r\n\r\n`, expect: { forward: [{ line: 'GET /n HTTP/1.1', has: ['x-public: 2'], lacks: ['x-secret', 'connection'] }] } },
  { name: 'a named header that came before Connection is dropped too', send: `GET /n HTTP/1.1\r\n${h}X-Early: 1\r\nConnection: X-Early\r\n\r\n`, expect: { forward: [{ line: 'GET /n HTTP/1.1', lacks: ['x-early'] }] } },
  { name: 'a token list with empty elements and odd spacing', send: `PUT /url HTTP/1.1\r\n${h}Connection: close, token, upgrade, token, keep-alive\r\nContent-Length: 0\r\n\r\n`, expect: { forward: [{ line: 'PUT /url HTTP/1.1', lacks: ['connection', 'token', 'upgrade'] }] } },
  { name: 'hop-by-hop fields are dropped (Keep-Alive, TE, Trailer, Upgrade, Proxy-Connection, HTTP2-Settings)', send: `GET /hop HTTP/1.1\r\n${h}Keep-Alive: 300\r\nTE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`, expect: { forward: [{ line: 'GET /hop HTTP/1.1', lacks: ['keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection', 'http2-settings'] }] } },
  { name: 'a WebSocket upgrade goes on with its Upgrade and Connection: upgrade (an origin answering without 101 leaves it HTTP)', send: `GET /demo HTTP/1.1\r\n${h}Connection: Upgrade\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\nSec-WebSocket-Protocol: sample\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nOrigin: http://example.com\r\n\r\n`, expect: { forward: [{ line: 'GET /demo HTTP/1.1', body: '', has: ['sec-websocket-protocol: sample', 'connection: upgrade', 'upgrade: websocket'] }] } },
  { name: 'bytes after an upgrade request wait for the answer: without a 101 they are the next request, not a tunnel', send: `GET /demo HTTP/1.1\r\n${h}Connection: Upgrade\r\nUpgrade: WebSocket\r\n\r\nGET /next HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'GET /demo HTTP/1.1', body: '' }, { line: 'GET /next HTTP/1.1', body: '' }] } },
  { name: 'an upgrade POST has its body framed by Content-Length', send: `POST /demo HTTP/1.1\r\n${h}Connection: Upgrade\r\nUpgrade: HTTP/2.0\r\nContent-Length: 15\r\n\r\nsweet post body`, expect: { forward: [{ line: 'POST /demo HTTP/1.1', body: 'sweet post body', lacks: ['upgrade'] }] } },
  { name: 'an h2c upgrade is not honoured', send: `GET /h2c HTTP/1.1\r\n${h}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`, expect: { forward: [{ line: 'GET /h2c HTTP/1.1', lacks: ['upgrade', 'http2-settings'] }] } },
  { name: 'Expect: 100-continue is not passed on (the edge answers it)', send: `POST /e HTTP/1.1\r\n${h}Expect: 100-continue\r\nContent-Length: 2\r\n\r\nok`, expect: { forward: [{ line: 'POST /e HTTP/1.1', body: 'ok', lacks: ['expect'] }] } },
];
