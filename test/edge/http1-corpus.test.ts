// The HTTP/1.1 case tables (test/edge/http1-cases/) through a real edge: every request case is
// written byte for byte by a raw visitor, and a byte-recording origin shows what the edge passed
// on; every response case is what that origin answers, and the visitor shows what reached it.
// Refusals are asserted by the stable reason code on the edge's error page, not just the status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type net from 'node:net';
import { requestChannel } from '../../src/edge/index.ts';
import type { RequestCtx } from '../../src/edge/request-ctx.ts';
import { ChunkedFramingError, ChunkedScanner } from '../../src/edge/http1/chunked.ts';
import { ConfigBuilder, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { RawOrigin, RawVisitor, reasonOf, type SeenRequest } from '../helpers/raw-http.ts';
import { lowerFields, readResponses, type WireMessage } from '../helpers/http1-wire.ts';
import { startTestEdge, type TestEdge } from './harness.ts';
import { HOST, requestTopics, responseTopics, type Forwarded, type RequestCase, type ResponseCase } from './http1-cases/index.ts';

const responseCases: ResponseCase[] = Object.values(responseTopics).flat();
const pathOf = (req: SeenRequest) => req.head.slice(req.head.indexOf(' ') + 1, req.head.indexOf(' HTTP/1.1'));

function answer(req: SeenRequest, socket: net.Socket): void {
  const m = /^\/r\/(\d+)$/.exec(pathOf(req));
  if (m !== null) {
    const c = responseCases[Number(m[1])];
    socket.write(c.answer, 'latin1');
    if (c.close) socket.end();
    return;
  }
  const path = pathOf(req);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`, 'latin1');
}

let inst: TestInstallation;
let origin: RawOrigin;
let edge: TestEdge;
const finished: RequestCtx[] = [];
const onRequest = (msg: unknown) => finished.push(msg as RequestCtx);

before(async () => {
  inst = await newInstallation();
  origin = new RawOrigin(answer);
  const port = await origin.listen();
  const b = new ConfigBuilder(inst);
  const z = b.zone('corpus.test', { sslMode: 'flexible' });
  b.record(z, HOST, { httpPort: port });
  edge = await startTestEdge(inst, b.build());
  diagnostics.subscribe(requestChannel.name as string, onRequest);
});

after(async () => {
  diagnostics.unsubscribe(requestChannel.name as string, onRequest);
  await edge.close();
  await origin.close();
});

/** Where the chunked scanner first refuses a byte of `body` (fed a byte at a time). */
function faultOffset(body: string): number {
  const bytes = Buffer.from(body, 'latin1');
  const scanner = new ChunkedScanner();
  for (let i = 0; i < bytes.length; i++) {
    try {
      scanner.feed(bytes, i, i + 1);
    } catch (err) {
      if (err instanceof ChunkedFramingError) return i;
      throw err;
    }
  }
  return bytes.length;
}

function checkForwarded(got: SeenRequest, want: Forwarded, what: string): void {
  assert.equal(got.head.slice(0, got.head.indexOf('\r\n')), want.line, `${what}: request line`);
  assert.equal(got.body, want.body ?? '', `${what}: body`);
  const lines = got.head.split('\r\n').slice(1).map((l) => l.toLowerCase());
  for (const l of want.has ?? []) assert.ok(lines.includes(l.toLowerCase()), `${what}: the origin's head holds ${JSON.stringify(l)}: ${JSON.stringify(lines)}`);
  for (const n of want.lacks ?? []) assert.ok(!lines.some((l) => l.startsWith(n + ':')), `${what}: the origin's head holds no ${n}`);
}

const settle = () => new Promise((r) => setTimeout(r, 30));

async function runRequestCase(c: RequestCase): Promise<void> {
  const seen = origin.seen.length;
  const rawBefore = origin.allRaw().length;
  finished.length = 0;
  const v = new RawVisitor(edge.httpPort).send(c.send);
  const e = c.expect;
  try {
    if ('forward' in e) {
      const n = e.forward.length;
      const heads = e.forward.map((f) => f.line.startsWith('HEAD '));
      await v.until((t) => readResponses(t, heads).filter((m) => m.complete).length >= n, `${n} answers`);
      await settle();
      const answers = readResponses(v.text, heads);
      assert.equal(answers.length, n, `${c.name}: answers`);
      for (const a of answers) assert.match(a.line, /^HTTP\/1\.1 200 /, `${c.name}: ${a.line} ${reasonOf(a.payload)}`);
      const got = origin.seen.slice(seen);
      assert.equal(got.length, n, `${c.name}: requests the origin got`);
      e.forward.forEach((f, i) => checkForwarded(got[i], f, `${c.name} #${i}`));
    } else if ('reject' in e) {
      const n = e.after?.length ?? 0;
      if (e.open) await v.until((t) => readResponses(t).filter((m) => m.complete).length > n, 'the refusal');
      else await v.closedByPeer();
      const answers = readResponses(v.text);
      assert.equal(answers.length, n + 1, `${c.name}: answers ${JSON.stringify(v.text.slice(0, 200))}`);
      const last = answers[n];
      assert.match(last.line, new RegExp(`^HTTP/1\\.1 ${e.reject.status} `), c.name);
      assert.equal(reasonOf(last.payload), e.reject.reason, `${c.name}: reason code`);
      if (!e.open) assert.ok(lowerFields(last).includes('connection: close'), `${c.name}: the refusal says connection: close`);
      await settle();
      const got = origin.seen.slice(seen);
      assert.equal(got.length, n, `${c.name}: requests the origin got`);
      (e.after ?? []).forEach((f, i) => checkForwarded(got[i], f, `${c.name} #${i}`));
    } else {
      await v.closedByPeer();
      await settle();
      const answers = readResponses(v.text);
      assert.equal(answers.length, 1, `${c.name}: one answer ${JSON.stringify(v.text.slice(0, 200))}`);
      assert.match(answers[0].line, /^HTTP\/1\.1 400 /, c.name);
      assert.equal(reasonOf(answers[0].payload), e.badBody.reason, `${c.name}: reason code`);
      const sentBody = c.send.slice(c.send.indexOf('\r\n\r\n') + 4);
      const raw = origin.allRaw().slice(rawBefore);
      assert.ok(raw.startsWith(e.badBody.line + '\r\n'), `${c.name}: the head went on`);
      const gotBody = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      assert.ok(sentBody.startsWith(gotBody) && gotBody.length <= faultOffset(sentBody), `${c.name}: the origin got no byte from the fault on: ${JSON.stringify(gotBody)}`);
      assert.equal(origin.seen.length, seen, `${c.name}: the origin framed no request`);
      const ctx = finished.find((x) => x.target === '/chunked');
      assert.ok(ctx, `${c.name}: the request finished`);
      assert.equal(ctx.error?.code, e.badBody.reason, `${c.name}: the access log's code`);
    }
  } finally {
    v.end();
  }
}

async function runResponseCase(c: ResponseCase, index: number): Promise<void> {
  const method = c.method ?? 'GET';
  const v = new RawVisitor(edge.httpPort).send(`${method} /r/${index} HTTP/1.${c.http10 ? 0 : 1}\r\nHost: ${HOST}\r\n\r\n`);
  const e = c.expect;
  const heads = [method === 'HEAD'];
  const first = (): WireMessage | undefined => readResponses(v.text, heads)[0];
  try {
    if ('error' in e) {
      await v.until(() => first()?.complete === true, 'an answer');
      const a = first()!;
      assert.match(a.line, /^HTTP\/1\.1 502 /, `${c.name}: ${a.line}`);
      assert.equal(reasonOf(a.payload), e.error, `${c.name}: reason code`);
      return;
    }
    if ('cutAfter' in e) {
      await v.closedByPeer();
      const a = first();
      assert.ok(a, `${c.name}: a head reached the visitor`);
      assert.match(a.line, new RegExp(`^HTTP/1\\.1 ${e.cutAfter.status} `), c.name);
      assert.equal(a.raw, e.cutAfter.body, `${c.name}: what the visitor got of the body`);
      // Cut: the visitor's framing is short, or (until close) the edge must not have claimed it whole.
      assert.equal(a.complete && a.raw === e.cutAfter.body && lowerFields(a).some((f) => f.startsWith('content-length:') || f.startsWith('transfer-encoding:')), false, `${c.name}: the visitor can tell the answer is cut`);
      return;
    }
    const p = e.pass;
    if (p.close) await v.closedByPeer();
    else await v.until(() => first()?.complete === true, 'the answer');
    await settle();
    const all = readResponses(v.text, heads);
    assert.equal(all.length, 1, `${c.name}: one answer, nothing after it: ${JSON.stringify(v.text.slice(0, 300))}`);
    const a = all[0];
    assert.equal(a.line, `HTTP/1.1 ${p.status} ${p.reasonPhrase}`, c.name);
    assert.equal(a.raw, p.body, `${c.name}: body`);
    const lines = lowerFields(a);
    for (const l of p.has ?? []) assert.ok(lines.includes(l.toLowerCase()), `${c.name}: the visitor's head holds ${JSON.stringify(l)}: ${JSON.stringify(lines)}`);
    for (const n of p.lacks ?? []) assert.ok(!lines.some((l) => l.startsWith(n + ':')), `${c.name}: the visitor's head holds no ${n}`);
    if (p.close) assert.ok(lines.includes('connection: close'), `${c.name}: connection: close`);
  } finally {
    v.end();
  }
}

async function everyCase<T>(cases: T[], run: (c: T) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await run(c);
    } catch (err) {
      const e = err as assert.AssertionError;
      failures.push(e.message.split('\n')[0] + ('actual' in e && e.operator !== '==' && e.operator !== 'fail' ? ` (got ${JSON.stringify(e.actual)}, want ${JSON.stringify(e.expected)})` : ''));
    }
  }
  assert.deepEqual(failures, []);
}

for (const [topic, cases] of Object.entries(requestTopics)) {
  test(`through the edge, requests, ${topic}: ${cases.length} cases`, () => everyCase(cases, runRequestCase));
}

for (const [topic, cases] of Object.entries(responseTopics)) {
  test(`through the edge, responses, ${topic}: ${cases.length} cases`, () => everyCase(cases, (c) => runResponseCase(c, responseCases.indexOf(c))));
}
