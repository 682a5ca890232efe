// The batched access line (hand-serialized, written once per event-loop turn) must carry what
// pino would have written for the same fields: same level, bindings and message key, same values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { accessLogEntry, accessLogFields, subscribeEdgeLogs } from '../../src/edge/access-log.ts';
import { requestChannel } from '../../src/edge/observe.ts';
import type { RequestCtx } from '../../src/edge/request-ctx.ts';

function fakeCtx(owner: object, over: Partial<Record<keyof RequestCtx, unknown>> = {}): RequestCtx {
  return {
    edge: owner,
    method: 'GET',
    target: '/a "quoted"\\path?x=1',
    rayId: '0123456789abcdef-TEST',
    hostname: 'www.example.com',
    host: 'www.example.com:8080',
    scheme: 'https',
    clientIp: '192.0.2.1',
    status: 200,
    upstreamStatus: 200,
    error: null,
    route: {
      zoneName: 'example.com',
      sslMode: 'strict',
      aop: { level: 'zone', reason: 'zone_level_enabled', certId: 'c1', fingerprint: 'ab'.repeat(32) },
    },
    connection: { id: 7, resumed: true },
    reused: true,
    attempts: 0,
    visitorGone: false,
    bytesOut: 1024,
    tStart: 10,
    tUpstream: 10.5,
    tHeaders: 11.25,
    tEnd: 12.125,
    ...over,
  } as unknown as RequestCtx;
}

function memoryLogger(opts: pino.LoggerOptions = {}) {
  const lines: Record<string, unknown>[] = [];
  let writes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes++;
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: pino({ level: 'info', ...opts }, stream), lines, writes: () => writes };
}

const withoutTime = (o: Record<string, unknown>) => {
  const { time: _t, ...rest } = o;
  return rest;
};

test('the hand-serialized fields equal the object pino would serialize', () => {
  const owner = {};
  for (const ctx of [
    fakeCtx(owner),
    fakeCtx(owner, { route: null, connection: null, upstreamStatus: 0, status: 404, tHeaders: 0, error: { code: 'unknown_host', message: 'no "record"\n' } }),
    fakeCtx(owner, { attempts: 1, visitorGone: true, status: 499, route: { zoneName: 'z', sslMode: 'full', aop: { level: 'none', reason: 'off', certId: null, fingerprint: null } } }),
  ]) {
    const expected = JSON.parse(JSON.stringify(accessLogEntry(ctx)));
    assert.deepEqual(JSON.parse('{' + accessLogFields(ctx).slice(1) + '}'), expected);
  }
});

test('batched access lines look like pino lines; a lone line goes out next turn, busy turns share writes', async () => {
  const owner = {};
  const fast = memoryLogger({ base: { pid: 1, name: 'edge' } });
  const plain = memoryLogger({ base: { pid: 1, name: 'edge' } });
  const unsubscribe = subscribeEdgeLogs(owner, fast.logger);
  try {
    // A lone line (quiet edge) is written on the next event-loop turn.
    requestChannel.publish(fakeCtx(owner));
    requestChannel.publish(fakeCtx({})); // another edge's request
    assert.equal(fast.lines.length, 0, 'nothing written synchronously');
    await tick();
    assert.equal(fast.lines.length, 1);
    plain.logger.info(accessLogEntry(fakeCtx(owner)), 'request');
    assert.deepEqual(withoutTime(fast.lines[0]), withoutTime(plain.lines[0]));
    assert.equal(typeof fast.lines[0].time, 'number');
    // Sequential single requests stay prompt.
    requestChannel.publish(fakeCtx(owner));
    await tick();
    assert.equal(fast.lines.length, 2);

    // Several lines per turn, turn after turn (a busy edge): far fewer writes than turns.
    const writesBefore = fast.writes();
    for (let i = 0; i < 30; i++) {
      requestChannel.publish(fakeCtx(owner));
      requestChannel.publish(fakeCtx(owner));
      await tick();
    }
    await sleep(50);
    assert.equal(fast.lines.length, 62, 'nothing lost');
    assert.ok(fast.writes() - writesBefore <= 6, `${fast.writes() - writesBefore} writes for 30 busy turns`);
  } finally {
    unsubscribe();
  }
});

test('unsubscribing flushes; a disabled level writes nothing; redaction keeps the pino path', async () => {
  const owner = {};
  const m = memoryLogger();
  const unsubscribe = subscribeEdgeLogs(owner, m.logger);
  requestChannel.publish(fakeCtx(owner));
  unsubscribe();
  assert.equal(m.lines.length, 1);

  const quiet = memoryLogger({ level: 'warn' });
  const un2 = subscribeEdgeLogs(owner, quiet.logger);
  requestChannel.publish(fakeCtx(owner));
  await tick();
  un2();
  assert.equal(quiet.lines.length, 0);

  const redacted = memoryLogger({ redact: ['path'] });
  const un3 = subscribeEdgeLogs(owner, redacted.logger);
  requestChannel.publish(fakeCtx(owner));
  un3();
  assert.equal(redacted.lines.length, 1, 'written at once by pino');
  assert.equal(redacted.lines[0].path, '[Redacted]');
});

test('a busy turn past the batch size, non-ASCII values and an oversized line: every line whole, in order', async () => {
  const owner = {};
  const m = memoryLogger();
  const unsubscribe = subscribeEdgeLogs(owner, m.logger);
  try {
    // ~450 bytes a line: 400 lines cross the 64 KiB batch size several times within one turn.
    for (let i = 0; i < 400; i++) requestChannel.publish(fakeCtx(owner, { target: `/n${i}/café/日本/${'x'.repeat(i % 50)}` }));
    // 27 KiB lines: the third no longer fits behind two in the batch buffer (a flush first).
    const long = (i: number) => `/${i}` + 'é'.repeat(13_600);
    for (let i = 0; i < 5; i++) requestChannel.publish(fakeCtx(owner, { target: long(i) }));
    // Longer than the whole batch buffer: written on its own, after what came before it.
    const huge = '/' + 'é'.repeat(40_000);
    requestChannel.publish(fakeCtx(owner, { target: huge }));
    requestChannel.publish(fakeCtx(owner, { target: '/last' }));
    await sleep(50);
    assert.equal(m.lines.length, 407);
    for (let i = 0; i < 400; i++) assert.equal(m.lines[i].path, `/n${i}/café/日本/${'x'.repeat(i % 50)}`);
    for (let i = 0; i < 5; i++) assert.equal(m.lines[400 + i].path, long(i));
    assert.equal(m.lines[405].path, huge);
    assert.equal(m.lines[406].path, '/last');
  } finally {
    unsubscribe();
  }
});
