// Header fields (RFC 9112 §5, RFC 9110 §5): names are tokens, values hold no CR, LF or NUL, no
// obs-fold, no blank before the colon, one Host that is a host[:port]. After llhttp's
// request/invalid.md, sample.md and connection.md: every line llhttp refuses, the edge refuses too
// (a proxy that passes what its origin's parser reads differently is a smuggling vector), with the
// lenient variants llhttp accepts behind flags refused as well.
import { HOST, type RequestCase } from './types.ts';

const h = `Host: ${HOST}\r\n`;
const get = (fields: string) => `GET /h HTTP/1.1\r\n${h}${fields}\r\n`;

export const headerFieldCases: RequestCase[] = [
  { name: 'values lose the blanks around them', send: get('X-A:   spaced  \r\nX-B:\ttabbed\t\r\n'), expect: { forward: [{ line: 'GET /h HTTP/1.1', has: ['x-a: spaced', 'x-b: tabbed'] }] } },
  { name: 'an empty value', send: get('X-Empty:\r\n'), expect: { forward: [{ line: 'GET /h HTTP/1.1', has: ['x-empty: '] }] } },
  { name: 'obs-text in a value (Düsseldorf, 0xff)', send: get('Test: D\xfcsseldorf\r\nHeader2: \xffValue2\r\n'), expect: { forward: [{ line: 'GET /h HTTP/1.1', has: ['test: d\xfcsseldorf', 'header2: \xffvalue2'] }] } },
  { name: 'a name made of token punctuation', send: get("aaaaaaaaaaaaa:++++++++++\r\nX-$Proto'BI.Version|~: 1.6.0.3\r\n"), expect: { forward: [{ line: 'GET /h HTTP/1.1', has: ['aaaaaaaaaaaaa: ++++++++++', "x-$proto'bi.version|~: 1.6.0.3"] }] } },
  { name: 'a bare CR between two fields', send: get('Foo: 1\rBar: 2\r\n'), expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'a bare LF between two fields (smuggling a Transfer-Encoding)', send: `POST / HTTP/1.1\r\n${h}x:x\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n`, expect: { reject: { status: 400, reason: 'bare_lf' } } },
  { name: 'a bare LF after an empty value', send: `POST / HTTP/1.1\r\n${h}x:\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n`, expect: { reject: { status: 400, reason: 'bare_lf' } } },
  { name: 'a bare CR after an empty value', send: `POST / HTTP/1.1\r\n${h}x:\rTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n`, expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'a bare LF hiding a Content-Length and a second request', send: `GET / HTTP/1.1\r\n${h}Dummy: x\nContent-Length: 23\r\n\r\nGET / HTTP/1.1\r\nDummy: GET /admin HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'bare_lf' } } },
  { name: 'only LFs as line ends', send: `POST / HTTP/1.1\n${h.replace('\r\n', '\n')}Transfer-Encoding: chunked\n\n1\nA\n0\n\n`, expect: { reject: { status: 400, reason: 'bare_lf' } } },
  { name: 'a CR instead of the blank line before a body', send: `PUT /url HTTP/1.1\r\n${h}Content-Length: 3\r\n\rabc\r\n\r\n`, expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'a CR and junk instead of a blank line (a second request behind it)', send: `GET / HTTP/1.1\r\nConnection: close\r\n${h}\rZGET /evil: HTTP/1.1\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'a CR inside a Connection value', send: get('Connection: keep\ralive\r\n'), expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'a NUL in a value', send: get('X-Nul: a\0b\r\n'), expect: { reject: { status: 400, reason: 'nul_character' } } },
  { name: 'a name that is not a token (@)', send: get('Fo@: Failure\r\n'), expect: { reject: { status: 400, reason: 'invalid_header_name' } } },
  { name: 'a name holding a NUL', send: get('Foo\0test: Bar\r\n'), expect: { reject: { status: 400, reason: 'nul_character' } } },
  { name: 'a vertical tab starting a name', send: get('\x0bX-A: 1\r\n'), expect: { reject: { status: 400, reason: 'invalid_header_name' } } },
  { name: 'an empty Host', send: 'GET / HTTP/1.1\r\nHost:\r\n\r\n', expect: { reject: { status: 400, reason: 'invalid_host' } } },
  { name: 'an empty name', send: get(': Bar\r\n'), expect: { reject: { status: 400, reason: 'invalid_header_name' } } },
  { name: 'a space inside a name', send: get('en-US Content-Type: text/xml\r\n'), expect: { reject: { status: 400, reason: 'invalid_header_name' } } },
  { name: 'a blank between the name and the colon (Content-Length :)', send: `PUT /url HTTP/1.1\r\n${h}Content-Length : 4\r\n\r\nabcd`, expect: { reject: { status: 400, reason: 'invalid_header_name' } } },
  { name: 'a blank between the name and the colon (Connection :)', send: `PUT /url HTTP/1.1\r\n${h}Connection : upgrade\r\nContent-Length: 4\r\nUpgrade: ws\r\n\r\nabcd`, expect: { reject: { status: 400, reason: 'invalid_header_name' } } },
  { name: 'a line with no colon', send: get('X-Some-Header\r\nAccept-Encoding: gzip\r\n'), expect: { reject: { status: 400, reason: 'header_without_colon' } } },
  { name: 'a corrupted name with control bytes (llhttp "Corrupted Connection header")', send: get('Connection\r\x1b\x35\xd5eep-Alive\r\nAccept-Encoding: gzip\r\n'), expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'obs-fold continuing a value', send: get('Line1:   abc\r\n\tdef\r\n'), expect: { reject: { status: 400, reason: 'obs_fold' } } },
  { name: 'obs-fold continuing a Transfer-Encoding', send: `PUT /url HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n  abc\r\n\r\n5\r\nWorld\r\n0\r\n\r\n`, expect: { reject: { status: 400, reason: 'obs_fold' } } },
  { name: 'a blank before the first field (after the request line)', send: `GET / HTTP/1.1\r\n Host: foo\r\n${h}\r\n`, expect: { reject: { status: 400, reason: 'obs_fold' } } },
  { name: 'a folded name (name CRLF SP : value)', send: get('name\r\n : value\r\n'), expect: { reject: { status: 400, reason: 'header_without_colon' } } },
  { name: 'no Host', send: 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', expect: { reject: { status: 400, reason: 'bad_request' }, open: true } },
  { name: 'two Host headers', send: get('Host: other.example\r\n'), expect: { reject: { status: 400, reason: 'duplicate_host' } } },
  { name: 'a Host that is not host[:port] (a blank inside)', send: `GET /test HTTP/1.1\r\nHost: ${HOST} x\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_host' } } },
  { name: 'a Host with a port that is not a number', send: `GET /test HTTP/1.1\r\nHost: ${HOST}:80x\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_host' } } },
  { name: 'a Host with user information', send: `GET / HTTP/1.1\r\nHost: user@${HOST}\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_host' } } },
  { name: 'a Host with a path', send: `GET / HTTP/1.1\r\nHost: ${HOST}/x\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_host' } } },
  { name: 'an upper-case Host and a trailing dot route as the name', send: `GET / HTTP/1.1\r\nhOsT: ${HOST.toUpperCase()}.\r\n\r\n`, expect: { forward: [{ line: 'GET / HTTP/1.1', has: [`host: ${HOST}.`] }] } },
  { name: "the edge's own headers cannot be forged, nor their underscore spellings", send: get('CF-Connecting-IP: 6.6.6.6\r\nCF_Connecting_IP: 6.6.6.6\r\nX-Forwarded-Proto: gopher\r\nX_Forwarded_Host: evil\r\nCF-Ray: forged\r\nX_Other: kept\r\n'), expect: { forward: [{ line: 'GET /h HTTP/1.1', has: ['x-forwarded-proto: http', 'x_other: kept'], lacks: ['cf_connecting_ip', 'x_forwarded_host'] }] } },
  { name: 'X-Forwarded-For is appended to', send: get('X-Forwarded-For: 203.0.113.9\r\n'), expect: { forward: [{ line: 'GET /h HTTP/1.1', has: ['x-forwarded-for: 203.0.113.9, 127.0.0.1'] }] } },
  { name: 'Proxy-* headers are not passed on', send: get('Proxy-Authorization: basic aGVsbG86d29ybGQ=\r\nProxy-Foo: 1\r\n'), expect: { forward: [{ line: 'GET /h HTTP/1.1', lacks: ['proxy-authorization', 'proxy-foo'] }] } },
  { name: 'a head over 32 KiB', send: get(`X-Big: ${'a'.repeat(33 * 1024)}\r\n`), expect: { reject: { status: 431, reason: 'head_too_large' } } },
];
