// The HTTP/1.1 case tables (test/edge/http1-cases/) at unit level: the head parser, the request and
// response header filters and the chunked scanner, glued the way the visitor and origin
// connections glue them, must give each case its expected outcome and stable reason code. The same
// tables run through a real edge in http1-corpus.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { downstreamFields, downstreamFieldsOf, upstreamHead, type RequestFacts, type ResponseFacts } from '../../src/edge/headers.ts';
import { ChunkedFramingError, ChunkedScanner } from '../../src/edge/http1/chunked.ts';
import { findHeadEnd, HeadError, MAX_HEAD_BYTES, parseRequestHead, parseResponseHead, parseStatusLine } from '../../src/edge/http1/head.ts';
import { chunkedCases, requestTopics, responseTopics, statusLineCases, type Forwarded, type RequestCase, type ResponseCase } from './http1-cases/index.ts';

/** Runs every case and reports every failure at once (a table is read as a whole). */
function everyCase<T>(cases: T[], check: (c: T) => void): void {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      check(c);
    } catch (err) {
      const e = err as assert.AssertionError;
      failures.push(e.message.split('\n')[0] + ('actual' in e && e.operator !== '==' ? ` (got ${JSON.stringify(e.actual)}, want ${JSON.stringify(e.expected)})` : ''));
    }
  }
  assert.deepEqual(failures, []);
}

type Read = { line: string; head: string; body: string };
type RequestResult = { forwarded: Read[]; reject?: { status: number; reason: string }; cut?: string };

/** What the edge makes of a visitor's bytes: the requests it forwards and how it stops. */
function readRequests(bytes: string): RequestResult {
  const buf = Buffer.from(bytes, 'latin1');
  const forwarded: Read[] = [];
  let pos = 0;
  for (;;) {
    while (pos < buf.length && (buf[pos] === 13 || buf[pos] === 10)) pos++;
    if (pos >= buf.length) return { forwarded };
    let end: number;
    let upstream: string;
    const facts = {} as RequestFacts;
    try {
      end = findHeadEnd(buf, pos, pos);
      if (end < 0 ? buf.length - pos > MAX_HEAD_BYTES : end - pos > MAX_HEAD_BYTES) throw new HeadError(431, 'head_too_large', 'too large');
      if (end < 0) return { forwarded };
      upstream = upstreamHead(parseRequestHead(buf.toString('latin1', pos, end)), '127.0.0.1', 'http', 'RAY', facts);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      return { forwarded, reject: { status: err.status, reason: err.reason } };
    }
    if (facts.host === '') return { forwarded, reject: { status: 400, reason: 'bad_request' } };
    const line = upstream.slice(0, upstream.indexOf('\r\n'));
    let at = end + 4;
    let body = '';
    if (facts.chunked) {
      const scanner = new ChunkedScanner();
      try {
        const stop = scanner.feed(buf, at, buf.length);
        if (stop < 0) return { forwarded, cut: 'incomplete' };
        body = buf.toString('latin1', at, scanner.forwardEnd) + (scanner.trailersDropped ? '\r\n' : '');
        at = stop;
      } catch (err) {
        if (!(err instanceof ChunkedFramingError)) throw err;
        return { forwarded, cut: err.reason };
      }
    } else if (facts.contentLength > 0) {
      body = buf.toString('latin1', at, at + facts.contentLength);
      at += facts.contentLength;
    }
    forwarded.push({ line, head: upstream, body });
    if (facts.closeAfter) return { forwarded };
    pos = at;
  }
}

/** Header lines of a head (after its first line), lower-cased. */
function headLines(head: string): string[] {
  return head.split('\r\n').slice(1).filter((l) => l !== '').map((l) => l.toLowerCase());
}

function checkForwarded(got: { line: string; head: string; body: string }, want: Forwarded, what: string): void {
  assert.equal(got.line, want.line, `${what}: request line`);
  assert.equal(got.body, want.body ?? '', `${what}: body`);
  const lines = headLines(got.head);
  for (const l of want.has ?? []) assert.ok(lines.includes(l.toLowerCase()), `${what}: the forwarded head holds ${JSON.stringify(l)}: ${JSON.stringify(lines)}`);
  for (const n of want.lacks ?? []) assert.ok(!lines.some((l) => l.startsWith(n + ':')), `${what}: the forwarded head holds no ${n}: ${JSON.stringify(lines)}`);
}

function checkRequestCase(c: RequestCase): void {
  const r = readRequests(c.send);
  const e = c.expect;
  if ('forward' in e) {
    assert.equal(r.reject, undefined, `${c.name}: refused with ${r.reject?.reason}`);
    assert.equal(r.cut, undefined, `${c.name}: cut (${r.cut})`);
    assert.equal(r.forwarded.length, e.forward.length, `${c.name}: requests forwarded`);
    e.forward.forEach((f, i) => checkForwarded(r.forwarded[i], f, `${c.name} #${i}`));
  } else if ('reject' in e) {
    assert.deepEqual(r.reject, e.reject, c.name);
    assert.equal(r.forwarded.length, e.after?.length ?? 0, `${c.name}: requests forwarded before the refusal`);
    (e.after ?? []).forEach((f, i) => checkForwarded(r.forwarded[i], f, `${c.name} #${i}`));
  } else {
    assert.equal(r.reject, undefined, `${c.name}: the head was refused (${r.reject?.reason})`);
    assert.equal(r.cut, e.badBody.reason, c.name);
  }
}

for (const [topic, cases] of Object.entries(requestTopics)) {
  test(`requests, ${topic}: ${cases.length} cases`, () => everyCase(cases, checkRequestCase));
}

type ResponseResult = { error?: string; status?: number; reasonPhrase?: string; fields?: string; body?: string; complete?: boolean; close?: boolean };

/** What the edge makes of an origin's answer: the head and body a visitor gets, or the error. */
function readResponse(c: ResponseCase): ResponseResult {
  const buf = Buffer.from(c.answer, 'latin1');
  let at = 0;
  for (;;) {
    const facts = {} as ResponseFacts;
    let end: number;
    let head: { status: number; reason: string; minor: number; fieldsAt: number };
    let fields: string;
    try {
      end = findHeadEnd(buf, at, at);
      if (end < 0) return { error: 'incomplete head' };
      const text = buf.toString('latin1', at, end);
      head = parseStatusLine(text);
      fields = downstreamFieldsOf(text, head.fieldsAt, 'RAY', facts) ?? downstreamFields(parseResponseHead(text).headers, 'RAY', facts);
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      return { error: 'origin_' + err.reason };
    }
    at = end + 4;
    if (head.status === 101) return { error: 'origin_unexpected_101' };
    if (head.status < 200) continue;
    if (facts.badLength) return { error: 'origin_invalid_content_length' };
    // The edge writes Transfer-Encoding itself when it passes chunks on (phases.ts respondHeaders).
    if (facts.chunked && !c.http10 && c.method !== 'HEAD' && head.status !== 204 && head.status !== 304) fields += 'transfer-encoding: chunked\r\n';
    const base = { status: head.status, reasonPhrase: head.reason || (STATUS_CODES[head.status] ?? ''), fields };
    if (c.method === 'HEAD' || head.status === 204 || head.status === 304) return { ...base, body: '', complete: true, close: false };
    if (facts.chunked) {
      const scanner = new ChunkedScanner();
      let decoded = '';
      try {
        const stop = c.http10 ? scanner.feed(buf, at, buf.length, (b, s, e) => (decoded += b.toString('latin1', s, e))) : scanner.feed(buf, at, buf.length);
        const passed = c.http10 ? decoded : buf.toString('latin1', at, scanner.forwardEnd) + (stop >= 0 && scanner.trailersDropped ? '\r\n' : '');
        return { ...base, body: passed, complete: stop >= 0, close: c.http10 === true };
      } catch (err) {
        if (!(err instanceof ChunkedFramingError)) throw err;
        return { error: 'origin_' + err.reason };
      }
    }
    if (facts.contentLength >= 0) {
      const body = buf.toString('latin1', at, at + facts.contentLength);
      return { ...base, body, complete: body.length === facts.contentLength, close: false };
    }
    return { ...base, body: buf.toString('latin1', at), complete: true, close: true };
  }
}

function checkResponseCase(c: ResponseCase): void {
  const r = readResponse(c);
  const e = c.expect;
  if ('error' in e) {
    assert.equal(r.error, e.error, c.name);
    return;
  }
  assert.equal(r.error, undefined, `${c.name}: ${r.error}`);
  if ('cutAfter' in e) {
    assert.equal(r.status, e.cutAfter.status, c.name);
    assert.equal(r.body, e.cutAfter.body, c.name);
    assert.equal(r.complete, false, `${c.name}: the answer is incomplete`);
    return;
  }
  const p = e.pass;
  assert.equal(r.status, p.status, c.name);
  assert.equal(r.reasonPhrase, p.reasonPhrase, c.name);
  assert.equal(r.body, p.body, c.name);
  assert.equal(r.complete, true, `${c.name}: complete`);
  assert.equal(r.close, p.close ?? false, `${c.name}: ends with the connection`);
  const lines = r.fields!.split('\r\n').filter((l) => l !== '').map((l) => l.toLowerCase());
  for (const l of p.has ?? []) assert.ok(lines.includes(l.toLowerCase()), `${c.name}: the visitor's head holds ${JSON.stringify(l)}: ${JSON.stringify(lines)}`);
  for (const n of p.lacks ?? []) assert.ok(!lines.some((l) => l.startsWith(n + ':')), `${c.name}: the visitor's head holds no ${n}`);
}

for (const [topic, cases] of Object.entries(responseTopics)) {
  test(`responses, ${topic}: ${cases.length} cases`, () => everyCase(cases, checkResponseCase));
}

test(`chunked scanner alone: ${chunkedCases.length} bodies, whole and a byte at a time, the same outcome`, () => {
  for (const c of chunkedCases) {
    const bytes = Buffer.from(c.body, 'latin1');
    for (const step of [bytes.length, 1]) {
      const scanner = new ChunkedScanner();
      let passed = '';
      let outcome: { passes: string } | { reason: string } | null = null;
      try {
        for (let at = 0; at < bytes.length && outcome === null; at += step) {
          const to = Math.min(at + step, bytes.length);
          const stop = scanner.feed(bytes, at, to);
          passed += bytes.toString('latin1', at, scanner.forwardEnd);
          if (stop >= 0) outcome = { passes: passed + (scanner.trailersDropped ? '\r\n' : '') };
        }
      } catch (err) {
        if (!(err instanceof ChunkedFramingError)) throw err;
        outcome = { reason: err.reason };
      }
      assert.deepEqual(outcome, c.expect, `${c.name} (fed ${step === 1 ? 'a byte at a time' : 'whole'})`);
    }
  }
});

test(`status lines alone: ${statusLineCases.length} lines`, () => {
  for (const c of statusLineCases) {
    let got: { status: number; reasonPhrase: string } | { reason: string };
    try {
      const s = parseStatusLine(c.line);
      got = { status: s.status, reasonPhrase: s.reason };
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
      got = { reason: err.reason };
    }
    assert.deepEqual(got, c.expect, c.name);
  }
});
