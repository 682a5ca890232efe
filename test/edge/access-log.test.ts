// The batched access line (hand-serialized, written once per event-loop turn) must carry what
// pino would have written for the same fields: same level, bindings and message key, same values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { accessLogEntry, accessLogFields, BATCH_BYTES, BATCH_ROOM, jsonString, msJson, subscribeEdgeLogs } from '../../src/edge/access-log.ts';
import { headerValue } from '../../src/edge/http1/head.ts';
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
    protocol: 'HTTP/2',
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
    upgrade: '',
    head: { headers: ['Host', 'www.example.com:8080', 'USER-AGENT', 'curl/8.0 "quoted" \\', 'Accept', '*/*', 'referer', 'https://r.example/ä?q=1'] },
    bytesIn: 187,
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
    fakeCtx(owner, { route: null, connection: null, upstreamStatus: 0, status: 404, tHeaders: 0, error: { code: 'unknown_host', message: 'no "record"\n' }, head: { headers: [] } }),
    fakeCtx(owner, { attempts: 1, visitorGone: true, status: 499, route: { zoneName: 'z', sslMode: 'full', aop: { level: 'none', reason: 'off', certId: null, fingerprint: null } } }),
    // An upgraded connection's line, written when it closes.
    fakeCtx(owner, { status: 101, upstreamStatus: 101, upgrade: 'websocket', bytesIn: 10_485_987, bytesOut: 10_486_201, tEnd: 60_010 }),
  ]) {
    const expected = JSON.parse(JSON.stringify(accessLogEntry(ctx)));
    assert.deepEqual(JSON.parse('{' + accessLogFields(ctx).slice(1) + '}'), expected);
  }
});

test('user agent and referer are the first of their headers, whatever the case of the name', () => {
  const headers = ['Host', 'h', 'Referrer', 'not it', 'RefereR', 'first', 'referer', 'second', 'user-agent', 'ua/1'];
  assert.equal(headerValue(headers, 'referer'), 'first');
  assert.equal(headerValue(headers, 'user-agent'), 'ua/1');
  assert.equal(headerValue(['Host', 'h'], 'user-agent'), undefined);
  const line = JSON.parse('{' + accessLogFields(fakeCtx({})).slice(1) + '}');
  assert.equal(line.userAgent, 'curl/8.0 "quoted" \\');
  assert.equal(line.referer, 'https://r.example/ä?q=1');
  assert.equal(line.requestBytes, 187);
  assert.equal(line.responseBytes, 1024);
});

test('jsonString and msJson give exactly what JSON.stringify gives', () => {
  const strings = ['', 'GET', '/1k?a=b&c=%20', 'app.example.com:8443', 'a"b', 'a\\b', 'tab\there', '\u0000', '\u001f', '\u007f', ' ~',
    'café', '日本', '\ud800', 'x\udfff', '😀', "it's <ok>", '/' + 'x'.repeat(5000)];
  for (let c = 0; c < 0x100; c++) strings.push(`/p${String.fromCharCode(c)}q`);
  for (const s of strings) assert.equal(jsonString(s), JSON.stringify(s), JSON.stringify(s));
  const ms = [0, 0.0004, 0.0005, 0.0015, 0.001, 0.01, 0.1, 0.5, 1, 1.5, 6.342, 6.3, 6.34, 9.9995, 999.9999, 12345.678, 1e6 + 0.25, 2e9, 3e12, -1, -0.0002];
  for (let i = 0; i < 20000; i++) ms.push(Math.random() * 10 ** ((i % 8) - 2));
  for (const m of ms) assert.equal(msJson(m), JSON.stringify(Math.round(m * 1000) / 1000), String(m));
});

test('a logger with its own time function keeps it in batched lines', async () => {
  const owner = {};
  const m = memoryLogger({ timestamp: pino.stdTimeFunctions.isoTime, base: { pid: 1 } });
  const unsubscribe = subscribeEdgeLogs(owner, m.logger);
  requestChannel.publish(fakeCtx(owner));
  const child = m.logger.child({ worker: 2 });
  unsubscribe();
  const unsub2 = subscribeEdgeLogs(owner, child);
  requestChannel.publish(fakeCtx(owner));
  unsub2();
  assert.equal(m.lines.length, 2);
  for (const line of m.lines) assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
  assert.equal(m.lines[1].worker, 2);
});

test('bindings set on the logger show in the next line, within the same millisecond too', async () => {
  const owner = {};
  const m = memoryLogger({ base: { pid: 1 } });
  const unsubscribe = subscribeEdgeLogs(owner, m.logger);
  requestChannel.publish(fakeCtx(owner));
  m.logger.setBindings({ region: 'eu' });
  requestChannel.publish(fakeCtx(owner));
  unsubscribe();
  assert.deepEqual(m.lines.map((l) => l.region), [undefined, 'eu']);
  assert.ok(Math.abs((m.lines[1].time as number) - Date.now()) < 5000);
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
    // ~450 bytes a line: enough lines to cross the batch size several times within one turn.
    const many = Math.ceil((3 * BATCH_BYTES) / 450);
    for (let i = 0; i < many; i++) requestChannel.publish(fakeCtx(owner, { target: `/n${i}/café/日本/${'x'.repeat(i % 50)}` }));
    // Lines of ~a third of the room (2 bytes a character): the third no longer fits behind two
    // in the batch buffer (a flush first).
    const chars = Math.floor(BATCH_ROOM / 3 / 2) - 600;
    const long = (i: number) => `/${i}` + 'é'.repeat(chars);
    for (let i = 0; i < 5; i++) requestChannel.publish(fakeCtx(owner, { target: long(i) }));
    // Longer than the whole batch buffer: written on its own, after what came before it.
    const huge = '/' + 'é'.repeat(BATCH_ROOM / 2 + 1000);
    requestChannel.publish(fakeCtx(owner, { target: huge }));
    requestChannel.publish(fakeCtx(owner, { target: '/last' }));
    await sleep(50);
    assert.equal(m.lines.length, many + 7);
    for (let i = 0; i < many; i++) assert.equal(m.lines[i].path, `/n${i}/café/日本/${'x'.repeat(i % 50)}`);
    for (let i = 0; i < 5; i++) assert.equal(m.lines[many + i].path, long(i));
    assert.equal(m.lines[many + 5].path, huge);
    assert.equal(m.lines[many + 6].path, '/last');
  } finally {
    unsubscribe();
  }
});
