// Chunked bodies (RFC 9112 §7.1), body bytes only: sizes in hex (leading zeros allowed), extensions
// to the grammar (`;name[=token|"quoted"]`), CRLF after every size line and every chunk, and a
// trailer section that is checked and then left out (what is passed on ends with the last chunk
// and a blank line). After llhttp's request/transfer-encoding.md and response/transfer-encoding.md.
// The scanner runs on these alone (http1-cases.test.ts); the corpus sends each as a request body
// and as an origin's answer body.
import type { ChunkedCase } from './types.ts';

export const chunkedCases: ChunkedCase[] = [
  { name: 'one chunk', body: '1e\r\nall your base are belong to us\r\n0\r\n\r\n', expect: { passes: '1e\r\nall your base are belong to us\r\n0\r\n\r\n' } },
  { name: 'lower-case hex size', body: 'a\r\n0123456789\r\n0\r\n\r\n', expect: { passes: 'a\r\n0123456789\r\n0\r\n\r\n' } },
  { name: 'upper-case hex size', body: 'A\r\n0123456789\r\n0\r\n\r\n', expect: { passes: 'A\r\n0123456789\r\n0\r\n\r\n' } },
  { name: 'two chunks and a triple-zero last chunk', body: '5\r\nhello\r\n6\r\n world\r\n000\r\n\r\n', expect: { passes: '5\r\nhello\r\n6\r\n world\r\n000\r\n\r\n' } },
  { name: 'leading zeros in a size', body: '0005\r\nhello\r\n0\r\n\r\n', expect: { passes: '0005\r\nhello\r\n0\r\n\r\n' } },
  { name: 'no chunk at all', body: '0\r\n\r\n', expect: { passes: '0\r\n\r\n' } },
  { name: 'trailer fields are checked and left out', body: '5\r\nhello\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n', expect: { passes: '5\r\nhello\r\n0\r\n\r\n' } },
  { name: 'extensions: names, token values, quoted values', body: '5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n', expect: { passes: '5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n' } },
  { name: 'quoted extension values with escapes and semicolons', body: '5;ilovew3="I \\"love\\"; \\\\extensions\\\\";foo=bar\r\nhello\r\n0\r\n\r\n', expect: { passes: '5;ilovew3="I \\"love\\"; \\\\extensions\\\\";foo=bar\r\nhello\r\n0\r\n\r\n' } },
  { name: 'blanks around an extension (BWS)', body: '5 ; a = b\r\nhello\r\n0\r\n\r\n', expect: { passes: '5 ; a = b\r\nhello\r\n0\r\n\r\n' } },
  { name: 'an unbalanced quote in an extension', body: '5;ilovew3="abc";somuchlove="def; ghi\r\nhello\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_extension' } },
  { name: 'a semicolon with no extension after it', body: '2;\r\naa\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_extension' } },
  { name: 'an extension name that is not a token', body: '2;a@b\r\naa\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_extension' } },
  { name: 'an extension "=" with no value', body: '2;a=\r\naa\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_extension' } },
  { name: 'junk after the size without a semicolon', body: '2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'a blank after the size, then the line end', body: 'a \r\n0123456789\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'blanks after the size of the last chunk', body: '0  \r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'a size followed by a bare LF', body: '3 \n  \r\nfoo\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'no size', body: '\r\nfoo\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'a blank before the size', body: ' 5\r\nhello\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'more data than the size says', body: '3\r\nhello\r\n0\r\n\r\n', expect: { reason: 'chunk_data_without_crlf' } },
  { name: 'an underscore in the size (1_0)', body: '1_0\r\n0123456789abcdef\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'a CR inside a quoted extension', body: '5;a="b\rc"\r\nhello\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_extension' } },
  { name: 'a sign before the size', body: '+5\r\nhello\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'a 0x prefix', body: '0x5\r\nhello\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'a size over 12 hex digits', body: '1000000000000\r\nx\r\n0\r\n\r\n', expect: { reason: 'chunk_size_too_large' } },
  { name: 'a size line ended by a bare LF', body: '5\nhello\r\n0\r\n\r\n', expect: { reason: 'invalid_chunk_size' } },
  { name: 'a size line ended by CR CR', body: '5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n', expect: { reason: 'chunk_size_without_crlf' } },
  { name: 'chunk data not followed by CRLF', body: '5\r\nABCDE0\r\n\r\n', expect: { reason: 'chunk_data_without_crlf' } },
  { name: 'chunk data followed by a bare LF', body: '5\r\nABCDE\n0\r\n\r\n', expect: { reason: 'chunk_data_without_crlf' } },
  { name: 'a trailer line that is a request line', body: '0\r\nGET / HTTP/1.1\r\n\r\n', expect: { reason: 'invalid_trailer' } },
  { name: 'a trailer field name then a request line in its value is checked and left out', body: '3\r\nabc\r\n0\r\nX:POST / HTTP/1.1\r\n\r\n', expect: { passes: '3\r\nabc\r\n0\r\n\r\n' } },
  { name: 'a trailer that is a status line', body: '0\r\nHTTP/1.1 200 OK\r\n\r\n', expect: { reason: 'invalid_trailer' } },
  { name: 'a trailer line starting with a blank (obs-fold)', body: '0\r\nX: a\r\n b\r\n\r\n', expect: { reason: 'invalid_trailer' } },
  { name: 'a trailer value with a NUL', body: '0\r\nX: a\0b\r\n\r\n', expect: { reason: 'invalid_trailer' } },
  { name: 'a trailer line ended by a bare LF', body: '0\r\nX: a\n\r\n', expect: { reason: 'invalid_trailer' } },
  { name: 'the last chunk not followed by CRLF', body: '0\r\n\rX', expect: { reason: 'chunked_end_without_crlf' } },
  { name: 'extensions over 4 KiB', body: `1;a=${'b'.repeat(4200)}\r\nx\r\n0\r\n\r\n`, expect: { reason: 'chunk_extension_too_long' } },
];
