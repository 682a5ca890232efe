// Every topic's table, and the cases derived from the body-level and status-line tables: each
// chunked body sent as a request body and as an origin's answer, each status line as an answer.
import { STATUS_CODES } from 'node:http';
import { chunkedCases } from './chunked.ts';
import { connectionCases } from './connection.ts';
import { contentLengthCases } from './content-length.ts';
import { headerFieldCases } from './header-fields.ts';
import { pipeliningCases } from './pipelining.ts';
import { requestLineCases } from './request-line.ts';
import { responseFramingCases } from './response-framing.ts';
import { statusLineCases } from './response-status-line.ts';
import { transferEncodingCases } from './transfer-encoding.ts';
import { HOST, type RequestCase, type ResponseCase } from './types.ts';

export { chunkedCases, statusLineCases, HOST };
export type * from './types.ts';

const CHUNKED_HEAD = `POST /chunked HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n`;

export const chunkedRequestCases: RequestCase[] = chunkedCases.map((c) => ({
  name: `chunked request body: ${c.name}`,
  send: CHUNKED_HEAD + c.body,
  expect: 'passes' in c.expect ? { forward: [{ line: 'POST /chunked HTTP/1.1', body: c.expect.passes }] } : { badBody: { reason: c.expect.reason, line: 'POST /chunked HTTP/1.1' } },
}));

export const chunkedResponseCases: ResponseCase[] = chunkedCases.map((c) => ({
  name: `chunked answer: ${c.name}`,
  answer: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + c.body,
  expect: 'passes' in c.expect ? { pass: { status: 200, reasonPhrase: 'OK', body: c.expect.passes } } : { error: 'origin_' + c.expect.reason },
}));

export const statusLineResponseCases: ResponseCase[] = statusLineCases.map((c) => ({
  name: `status line: ${c.name}`,
  answer: c.line + '\r\nContent-Length: 2\r\n\r\nok',
  expect: 'status' in c.expect ? { pass: { status: c.expect.status, reasonPhrase: c.expect.reasonPhrase || (STATUS_CODES[c.expect.status] ?? ''), body: 'ok' } } : { error: 'origin_' + c.expect.reason },
}));

/** Request cases by topic. */
export const requestTopics: Record<string, RequestCase[]> = {
  'request line': requestLineCases,
  'header fields': headerFieldCases,
  'Content-Length': contentLengthCases,
  'Transfer-Encoding': transferEncodingCases,
  'chunked request bodies': chunkedRequestCases,
  pipelining: pipeliningCases,
  'Connection and Upgrade': connectionCases,
};

/** Response cases by topic. */
export const responseTopics: Record<string, ResponseCase[]> = {
  'response status line': statusLineResponseCases,
  'response framing': responseFramingCases,
  'chunked answers': chunkedResponseCases,
};
