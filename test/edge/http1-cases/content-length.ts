// Content-Length (RFC 9112 §6.2, §6.3): digits only, one value however often repeated, never beside
// Transfer-Encoding. After llhttp's request/content-length.md: what llhttp accepts goes on with its
// body framed exactly; what it refuses (overflow, junk, duplicates that disagree) the edge refuses.
import { HOST, type RequestCase } from './types.ts';

const h = `Host: ${HOST}\r\n`;

export const contentLengthCases: RequestCase[] = [
  { name: 'leading zeros', send: `PUT /url HTTP/1.1\r\n${h}Content-Length: 003\r\n\r\nabc`, expect: { forward: [{ line: 'PUT /url HTTP/1.1', body: 'abc', has: ['content-length: 003'] }] } },
  { name: 'followed by other headers', send: `PUT /url HTTP/1.1\r\n${h}Content-Length: 003\r\nOhai: world\r\n\r\nabc`, expect: { forward: [{ line: 'PUT /url HTTP/1.1', body: 'abc', has: ['ohai: world'] }] } },
  { name: 'mixed-case name, HTTP/1.0', send: `GET /funky HTTP/1.0\r\n${h}conTENT-Length: 5\r\n\r\nHELLO`, expect: { forward: [{ line: 'GET /funky HTTP/1.1', body: 'HELLO' }] } },
  { name: 'blanks around the value', send: `POST /cl HTTP/1.1\r\n${h}Content-Length: \t 4\t \r\n\r\nabcd`, expect: { forward: [{ line: 'POST /cl HTTP/1.1', body: 'abcd', has: ['content-length: 4'] }] } },
  { name: 'zero', send: `POST /zero HTTP/1.1\r\n${h}Content-Length: 0\r\n\r\n`, expect: { forward: [{ line: 'POST /zero HTTP/1.1', body: '' }] } },
  { name: 'the same value twice goes on once', send: `POST /twice HTTP/1.1\r\n${h}Content-Length: 2\r\nContent-Length: 2\r\n\r\nab`, expect: { forward: [{ line: 'POST /twice HTTP/1.1', body: 'ab' }] } },
  { name: 'two different values', send: `PUT /url HTTP/1.1\r\n${h}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`, expect: { reject: { status: 400, reason: 'conflicting_content_length' } } },
  { name: 'a list of values', send: `PUT /url HTTP/1.1\r\n${h}Content-Length: 2, 2\r\n\r\nab`, expect: { reject: { status: 400, reason: 'invalid_content_length' } } },
  { name: 'overflow (22 digits)', send: `PUT /url HTTP/1.1\r\n${h}Content-Length: 1000000000000000000000\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_content_length' } } },
  { name: 'a space inside the number (4 2)', send: `POST / HTTP/1.1\r\n${h}Content-Length: 4 2\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_content_length' } } },
  { name: 'a sign (+4)', send: `POST / HTTP/1.1\r\n${h}Content-Length: +4\r\n\r\nabcd`, expect: { reject: { status: 400, reason: 'invalid_content_length' } } },
  { name: 'a negative value', send: `POST / HTTP/1.1\r\n${h}Content-Length: -1\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_content_length' } } },
  { name: 'hex (0x4)', send: `POST / HTTP/1.1\r\n${h}Content-Length: 0x4\r\n\r\nabcd`, expect: { reject: { status: 400, reason: 'invalid_content_length' } } },
  { name: 'empty', send: `POST / HTTP/1.1\r\n${h}Content-Length:\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_content_length' } } },
  { name: 'a CR instead of the dash in the name', send: `PUT /url HTTP/1.1\r\n${h}Content\rLength: 003\r\n\r\nabc`, expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'beside Transfer-Encoding: chunked', send: `POST / HTTP/1.1\r\n${h}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, expect: { reject: { status: 400, reason: 'content_length_with_transfer_encoding' } } },
  { name: 'beside Transfer-Encoding: identity', send: `PUT /url HTTP/1.1\r\n${h}Content-Length: 1\r\nTransfer-Encoding: identity\r\n\r\na`, expect: { reject: { status: 400, reason: 'chunked_not_last' } } },
  { name: 'beside empty Transfer-Encoding lines', send: `POST / HTTP/1.1\r\n${h}Content-Length: 10\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\n\r\n2\r\nAA\r\n0\r\n\r\n`, expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'a body longer than the length: the rest is the next request', send: `POST /short HTTP/1.1\r\n${h}Content-Length: 2\r\n\r\nabGET /next HTTP/1.1\r\n${h}\r\n`, expect: { forward: [{ line: 'POST /short HTTP/1.1', body: 'ab' }, { line: 'GET /next HTTP/1.1', body: '' }] } },
  { name: 'Content-Length-X is not Content-Length', send: `POST /x HTTP/1.1\r\n${h}Content-Length-X: 5\r\n\r\n`, expect: { forward: [{ line: 'POST /x HTTP/1.1', body: '', has: ['content-length-x: 5'] }] } },
];
