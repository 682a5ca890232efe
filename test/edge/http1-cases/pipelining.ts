// Several requests on one connection (RFC 9112 §9.3): each framed by its own head, answered in
// order; a refused one ends the connection after the answers before it. After llhttp's
// request/pipelining.md and connection.md (keep-alive and close between requests).
import { HOST, type RequestCase } from './types.ts';

const h = `Host: ${HOST}\r\n`;

export const pipeliningCases: RequestCase[] = [
  {
    name: 'three requests with bodies, back to back',
    send: `POST /aaa HTTP/1.1\r\n${h}Content-Length: 3\r\n\r\nAAAPUT /bbb HTTP/1.1\r\n${h}Content-Length: 4\r\n\r\nBBBBPATCH /ccc HTTP/1.1\r\n${h}Content-Length: 5\r\n\r\nCCCCC`,
    expect: { forward: [{ line: 'POST /aaa HTTP/1.1', body: 'AAA' }, { line: 'PUT /bbb HTTP/1.1', body: 'BBBB' }, { line: 'PATCH /ccc HTTP/1.1', body: 'CCCCC' }] },
  },
  {
    name: 'a chunked request then a GET',
    send: `POST /one HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /two HTTP/1.1\r\n${h}\r\n`,
    expect: { forward: [{ line: 'POST /one HTTP/1.1', body: '3\r\nabc\r\n0\r\n\r\n' }, { line: 'GET /two HTTP/1.1', body: '' }] },
  },
  {
    name: 'a CRLF between requests is skipped',
    send: `POST /q HTTP/1.1\r\n${h}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n\r\nq=42\r\n\r\nGET /after HTTP/1.1\r\n${h}\r\n`,
    expect: { forward: [{ line: 'POST /q HTTP/1.1', body: 'q=42' }, { line: 'GET /after HTTP/1.1', body: '' }] },
  },
  {
    name: 'explicit keep-alive, twice',
    send: `PUT /url HTTP/1.1\r\n${h}Connection: keep-alive\r\nContent-Length: 0\r\n\r\nPUT /url2 HTTP/1.1\r\n${h}Connection: keep-alive\r\nContent-Length: 0\r\n\r\n`,
    expect: { forward: [{ line: 'PUT /url HTTP/1.1', lacks: ['connection'] }, { line: 'PUT /url2 HTTP/1.1' }] },
  },
  {
    name: 'nothing after Connection: close is read',
    send: `POST /last HTTP/1.1\r\n${h}Content-Length: 4\r\nConnection: close\r\n\r\nq=42\r\nGET /never HTTP/1.1\r\n${h}\r\n`,
    expect: { forward: [{ line: 'POST /last HTTP/1.1', body: 'q=42' }] },
  },
  {
    name: 'nothing after Connection: close followed by a tab is read',
    send: `POST /last HTTP/1.1\r\n${h}Content-Length: 4\r\nConnection: close\t\r\n\r\nq=42\r\nGET /never HTTP/1.1\r\n${h}\r\n`,
    expect: { forward: [{ line: 'POST /last HTTP/1.1', body: 'q=42' }] },
  },
  {
    name: 'an HTTP/1.0 request without keep-alive is the last one',
    send: `PUT /url HTTP/1.0\r\n${h}Content-Length: 0\r\n\r\nPUT /never HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    expect: { forward: [{ line: 'PUT /url HTTP/1.1' }] },
  },
  {
    name: 'an HTTP/1.0 request with keep-alive is not',
    send: `GET /one HTTP/1.0\r\n${h}Connection: keep-alive\r\n\r\nGET /two HTTP/1.0\r\n${h}\r\n`,
    expect: { forward: [{ line: 'GET /one HTTP/1.1' }, { line: 'GET /two HTTP/1.1' }] },
  },
  {
    name: 'a refused request after a good one: the first is answered, then the connection closes',
    send: `GET /fine HTTP/1.1\r\n${h}\r\nGET /bad HTTP/1.1\r\n${h}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
    expect: { reject: { status: 400, reason: 'conflicting_content_length' }, after: [{ line: 'GET /fine HTTP/1.1' }] },
  },
  {
    name: 'a body that is itself a request is a body',
    send: `POST /carrier HTTP/1.1\r\n${h}Content-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n`,
    expect: { forward: [{ line: 'POST /carrier HTTP/1.1', body: 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n' }] },
  },
];
