// Request lines (RFC 9112 §3): methods, the four target forms, versions, the blank lines a request
// may follow. After llhttp's request/method.md, uri.md, sample.md and invalid.md, as a reverse
// proxy sees them: an origin-form target goes on as sent, an absolute-form one is routed by its
// authority and goes on in origin form, anything an origin could read differently is refused.
import { HOST, type RequestCase } from './types.ts';

const h = `Host: ${HOST}\r\n`;

export const requestLineCases: RequestCase[] = [
  { name: 'simple GET', send: `GET /simple HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'GET /simple HTTP/1.1' }] } },
  { name: 'HEAD', send: `HEAD /url HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'HEAD /url HTTP/1.1' }] } },
  { name: 'OPTIONS with headers', send: `OPTIONS /url HTTP/1.1\r\n${h}Header1: Value1\r\nHeader2:\t Value2\r\n\r\n`, expect: { forward: [{ line: 'OPTIONS /url HTTP/1.1', has: ['Header1: Value1', 'Header2: Value2'] }] } },
  { name: 'OPTIONS with the asterisk target', send: `OPTIONS * HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'OPTIONS * HTTP/1.1' }] } },
  { name: 'the asterisk target is for OPTIONS only (M-SEARCH *)', send: `M-SEARCH * HTTP/1.1\r\n${h}MAN: "ssdp:discover"\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_target' } } },
  { name: 'extension methods are tokens and pass (REPORT, PURGE, SEARCH, LINK, SOURCE)', send: `PURGE /file.txt HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'PURGE /file.txt HTTP/1.1' }] } },
  { name: 'PATCH with a body', send: `PATCH /file.txt HTTP/1.1\r\n${h}Content-Type: application/example\r\nIf-Match: "e0023aa4e"\r\nContent-Length: 10\r\n\r\ncccccccccc`, expect: { forward: [{ line: 'PATCH /file.txt HTTP/1.1', body: 'cccccccccc', has: ['if-match: "e0023aa4e"'] }] } },
  { name: 'QUERY with a body', send: `QUERY /contacts HTTP/1.1\r\n${h}Content-Type: example/query\r\nContent-Length: 41\r\n\r\nselect surname, givenname, email limit 10`, expect: { forward: [{ line: 'QUERY /contacts HTTP/1.1', body: 'select surname, givenname, email limit 10' }] } },
  { name: 'a method that is not a token (MK"COL)', send: `MK"COL / HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_method' } } },
  { name: 'CONNECT is refused: the edge is not a forward proxy', send: `CONNECT 0-home0.netscape.com:443 HTTP/1.0\r\nUser-agent: Mozilla/1.1N\r\nProxy-authorization: basic aGVsbG86d29ybGQ=\r\n\r\nsome data\r\nand yet even more data`, expect: { reject: { status: 405, reason: 'connect_not_allowed' } } },
  { name: 'CONNECT with a body is refused before the body goes anywhere', send: `CONNECT ${HOST}:443 HTTP/1.1\r\n${h}Content-Length: 10\r\n\r\nblarfcicle`, expect: { reject: { status: 405, reason: 'connect_not_allowed' } } },
  { name: 'the HTTP/2 preface is not a request', send: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', expect: { reject: { status: 505, reason: 'unsupported_version' } } },
  { name: 'RTSP/1.0', send: `OPTIONS /music/sweet/music RTSP/1.0\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_version' } } },
  { name: 'ICE/1.0', send: `SOURCE /music/sweet/music ICE/1.0\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_version' } } },
  { name: 'IHTTP/1.0', send: `GET /music/sweet/music IHTTP/1.0\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_version' } } },
  { name: 'HTTP/5.6', send: `GET / HTTP/5.6\r\n${h}\r\n`, expect: { reject: { status: 505, reason: 'unsupported_version' } } },
  { name: 'HTTP/1.01 (extra minor digit)', send: `GET / HTTP/1.01\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_version' } } },
  { name: 'HTTP/01.1 (extra major digit)', send: `GET / HTTP/01.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_version' } } },
  { name: 'lower-case http/1.1', send: `GET / http/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_version' } } },
  { name: 'no HTTP version (HTTP/0.9 style)', send: `GET /\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_request_line' } } },
  { name: 'HTTP/1.0 is answered, as HTTP/1.1 upstream', send: `GET /test HTTP/1.0\r\nHost: ${HOST}:5000\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n`, expect: { forward: [{ line: 'GET /test HTTP/1.1', has: [`host: ${HOST}:5000`] }] } },
  { name: 'empty lines before the request line are skipped', send: `\r\n\r\nGET /url HTTP/1.1\r\n${h}Header1: Value1\r\n\r\n`, expect: { forward: [{ line: 'GET /url HTTP/1.1' }] } },
  { name: 'a bare CR ending the request line', send: `GET / HTTP/1.1\rLine: 1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'a space inside the target', send: `GET /foo bar/ HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_target' } } },
  { name: 'two spaces after the method', send: `GET  / HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_target' } } },
  { name: 'a tab as separator', send: `GET\t/ HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_request_line' } } },
  { name: 'quotes and question marks in the target pass as sent', send: `GET /with_"lovely"_quotes?foo=\\"bar\\"?baz HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'GET /with_"lovely"_quotes?foo=\\"bar\\"?baz HTTP/1.1' }] } },
  { name: 'a vertical bar and a fragment in the target pass as sent', send: `GET /forums/1/topics/2375?query=|&page=1#posts-17408 HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'GET /forums/1/topics/2375?query=|&page=1#posts-17408 HTTP/1.1' }] } },
  { name: 'UTF-8 in the path passes as sent (obs-text)', send: `GET /\xce\xb4\xc2\xb6/\xce\xb4t/pope?q=1#narf HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'GET /\xce\xb4\xc2\xb6/\xce\xb4t/pope?q=1#narf HTTP/1.1' }] } },
  { name: 'a NUL in the target', send: `GET /a\0b HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'nul_character' } } },
  { name: 'a DEL in the target', send: `GET /a\x7fb HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_target' } } },
  { name: 'a lower-case method is a token, passed as sent (methods are case-sensitive)', send: `get /lower HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'get /lower HTTP/1.1' }] } },
  { name: 'a space after the version', send: `GET / HTTP/1.1 \r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_target' } } },
  { name: 'a NUL before the method', send: `\0GET / HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_method' } } },
  { name: 'absolute form: routed by its authority, sent in origin form with Host from it', send: `GET http://${HOST}/toto?x=1 HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n`, expect: { forward: [{ line: 'GET /toto?x=1 HTTP/1.1', has: [`host: ${HOST}`] }] } },
  { name: 'absolute form with a port, ended by a query string', send: `GET http://${HOST}:1234?hail=all HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'GET /?hail=all HTTP/1.1', has: [`host: ${HOST}:1234`] }] } },
  { name: 'absolute form with no path', send: `GET http://${HOST}:1234 HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'GET / HTTP/1.1', has: [`host: ${HOST}:1234`] }] } },
  { name: 'absolute form with user information', send: `GET http://a%12:b!&*$@${HOST}:1234/toto HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'userinfo_in_target' } } },
  { name: 'absolute form with another scheme', send: `GET ftp://${HOST}/ HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_target_scheme' } } },
  { name: 'absolute form with no host', send: `GET http:///x HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_target_authority' } } },
  { name: 'authority form outside CONNECT', send: `GET ${HOST}:443 HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_target' } } },
  { name: 'a relative target with no leading slash', send: `GET foo/bar HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'invalid_target' } } },
];
