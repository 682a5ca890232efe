// Transfer-Encoding on requests (RFC 9112 §6.1, §6.3): the edge decodes chunked only, so a request
// is framed by chunked as the final coding or refused; codings are trimmed of SP and HTAB only.
// After llhttp's request/transfer-encoding.md and the Transfer-Encoding gadgets of smuggling scanners.
import { HOST, type RequestCase } from './types.ts';

const h = `Host: ${HOST}\r\n`;
const post = (te: string, body = '5\r\nWorld\r\n0\r\n\r\n') => `POST /te HTTP/1.1\r\n${h}${te}\r\n${body}`;
const ok = (body = '5\r\nWorld\r\n0\r\n\r\n') => ({ forward: [{ line: 'POST /te HTTP/1.1', body, has: ['transfer-encoding: chunked'] }] });

export const transferEncodingCases: RequestCase[] = [
  { name: 'chunked', send: post('Transfer-Encoding: chunked\r\n'), expect: ok() },
  { name: 'mixed case name and value', send: post('transfer-ENCODING: ChUnKeD\r\n'), expect: ok() },
  { name: 'blanks around chunked', send: post('Transfer-Encoding: \t chunked \t\r\n'), expect: ok() },
  { name: 'chunked twice (one list, two lines)', send: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'), expect: { reject: { status: 501, reason: 'unsupported_transfer_coding' } } },
  { name: 'empty list elements around chunked (nginx and HAProxy refuse them)', send: post('Transfer-Encoding: , chunked,\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'an empty list element after chunked', send: post('Transfer-Encoding: chunked,\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'an empty Transfer-Encoding line beside a chunked one', send: post('Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'an unknown coding', send: post('Transfer-Encoding: pigeons\r\n'), expect: { reject: { status: 400, reason: 'chunked_not_last' } } },
  { name: 'identity', send: post('Transfer-Encoding: identity\r\n', 'World'), expect: { reject: { status: 400, reason: 'chunked_not_last' } } },
  { name: 'chunkedchunked', send: post('Transfer-Encoding: chunkedchunked\r\n'), expect: { reject: { status: 400, reason: 'chunked_not_last' } } },
  { name: 'chunked before another coding', send: post('Transfer-Encoding: chunked, deflate\r\n', 'World'), expect: { reject: { status: 400, reason: 'chunked_not_last' } } },
  { name: 'chunked then another coding on a second line', send: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: deflate\r\n', 'World'), expect: { reject: { status: 400, reason: 'chunked_not_last' } } },
  { name: 'another coding then chunked (decoded by nobody here)', send: post('Transfer-Encoding: deflate, chunked\r\n'), expect: { reject: { status: 501, reason: 'unsupported_transfer_coding' } } },
  { name: 'another coding then chunked on two lines', send: post('Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n'), expect: { reject: { status: 501, reason: 'unsupported_transfer_coding' } } },
  { name: 'empty value', send: post('Transfer-Encoding:\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'a quoted coding', send: post('Transfer-Encoding: "chunked"\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'chunked with a parameter', send: post('Transfer-Encoding: chunked;q=1\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'NBSP before chunked', send: post('Transfer-Encoding: \xa0chunked\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'VT before chunked', send: post('Transfer-Encoding: \x0bchunked\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'FF before chunked', send: post('Transfer-Encoding: \x0cchunked\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'NBSP after chunked', send: post('Transfer-Encoding: chunked\xa0\r\n'), expect: { reject: { status: 400, reason: 'invalid_transfer_encoding' } } },
  { name: 'a blank before the colon', send: post('Transfer-Encoding : chunked\r\n'), expect: { reject: { status: 400, reason: 'invalid_header_name' } } },
  { name: 'an underscore name is not Transfer-Encoding (and is not framing)', send: `POST /te HTTP/1.1\r\n${h}Transfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc`, expect: { forward: [{ line: 'POST /te HTTP/1.1', body: 'abc', has: ['transfer_encoding: chunked'] }] } },
  // Gadgets in the style of smuggling scanners: spellings one parser reads as chunked and another not.
  { name: 'a NUL after chunked', send: post('Transfer-Encoding: chunked\0\r\n'), expect: { reject: { status: 400, reason: 'nul_character' } } },
  { name: 'a NUL before chunked', send: post('Transfer-Encoding: \0chunked\r\n'), expect: { reject: { status: 400, reason: 'nul_character' } } },
  { name: 'a bare CR after chunked', send: post('Transfer-Encoding: chunked\r\r\n'), expect: { reject: { status: 400, reason: 'bare_cr' } } },
  { name: 'a truncated coding (chunk)', send: post('Transfer-Encoding: chunk\r\n'), expect: { reject: { status: 400, reason: 'chunked_not_last' } } },
  { name: 'a leading blank on the Transfer-Encoding line (folded onto the one before)', send: post(' Transfer-Encoding: chunked\r\n'), expect: { reject: { status: 400, reason: 'obs_fold' } } },
  { name: 'Transfer-Encoding folded onto the next line', send: post('Transfer-Encoding:\r\n chunked\r\n'), expect: { reject: { status: 400, reason: 'obs_fold' } } },
  { name: 'a tab before chunked is a blank', send: post('Transfer-Encoding:\tchunked\r\n'), expect: ok() },
  { name: 'identity then chunked', send: post('Transfer-Encoding: identity, chunked\r\n'), expect: { reject: { status: 501, reason: 'unsupported_transfer_coding' } } },
  { name: 'chunked then an unknown coding on a second line (Transfer-encoding: x)', send: post('Transfer-Encoding: chunked\r\nTransfer-encoding: x\r\n'), expect: { reject: { status: 400, reason: 'chunked_not_last' } } },
  { name: 'a second, junk Transfer-Encoding line before chunked', send: post('Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n'), expect: { reject: { status: 501, reason: 'unsupported_transfer_coding' } } },
  { name: 'Transfer-Encoding with an LF before the colon', send: post('Transfer-Encoding\n: chunked\r\n'), expect: { reject: { status: 400, reason: 'bare_lf' } } },
  { name: 'a Content-Length hidden behind chunked (CL.TE)', send: `POST /te HTTP/1.1\r\n${h}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, expect: { reject: { status: 400, reason: 'content_length_with_transfer_encoding' } } },
  { name: 'chunked on HTTP/1.0', send: `POST /te HTTP/1.0\r\n${h}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, expect: { reject: { status: 400, reason: 'chunked_http10' } } },
  { name: 'chunked on a GET', send: `GET /te HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: { forward: [{ line: 'GET /te HTTP/1.1', body: '3\r\nabc\r\n0\r\n\r\n' }] } },
];
