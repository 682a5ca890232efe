// The API logs one line per request (Fastify's own logging wrote two at info, "incoming request"
// and "request completed"), and the dashboard's refreshes, marked with x-originpull-poll, at debug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startApi } from './harness.ts';

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  method?: string;
  url?: string;
  status?: number;
  ms?: number;
}

const DEBUG = 20;
const INFO = 30;

function collectingLogger() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text) as Line);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

test('one line per request at info; dashboard refreshes at debug unless they fail', async (t) => {
  const { logger, lines } = collectingLogger();
  const api = await startApi({ listen: true, logger });
  t.after(() => api.close());
  const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const res = await fetch(`${api.baseURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${api.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  };

  assert.equal(await call('POST', '/zones', {}, { name: 'log.test' }), 200);
  for (let i = 0; i < 5; i++) assert.equal(await call('GET', '/zones'), 200);
  assert.equal(await call('GET', '/nope'), 404);
  for (let i = 0; i < 4; i++) assert.equal(await call('GET', '/zones', { 'x-originpull-poll': '1' }), 200);
  assert.equal(await call('GET', '/zones', { 'x-originpull-poll': '1', authorization: 'Bearer wrong' }), 401);
  // The line is written once the answer went out; give the hook a moment on a loaded machine.
  const deadline = Date.now() + 5_000;
  while (lines.filter((l) => l.reqId !== undefined).length < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  const perRequest = lines.filter((l) => l.reqId !== undefined);
  assert.equal(perRequest.length, 12, `one line for each of 12 requests, got: ${perRequest.map((l) => l.msg).join(', ')}`);
  assert.equal(new Set(perRequest.map((l) => l.reqId)).size, 12, 'no request logged twice');
  assert.ok(perRequest.every((l) => l.msg === 'request' && typeof l.ms === 'number'));

  const info = perRequest.filter((l) => l.level === INFO);
  const debug = perRequest.filter((l) => l.level === DEBUG);
  assert.deepEqual(
    info.map((l) => `${l.method} ${l.url} ${l.status}`),
    ['POST /client/v4/zones 200', ...Array(5).fill('GET /client/v4/zones 200'), 'GET /client/v4/nope 404', 'GET /client/v4/zones 401'],
  );
  assert.deepEqual(debug.map((l) => `${l.method} ${l.url} ${l.status}`), Array(4).fill('GET /client/v4/zones 200'));
});

test('Prometheus scrapes of /metrics log at debug, refused ones at info', async (t) => {
  const { logger, lines } = collectingLogger();
  const api = await startApi({ listen: true, logger });
  t.after(() => api.close());
  const origin = new URL(api.baseURL).origin;
  const scrape = async (token: string) => {
    const res = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status;
  };
  for (let i = 0; i < 3; i++) assert.equal(await scrape(api.token), 200);
  assert.equal(await scrape('wrong'), 401);
  const deadline = Date.now() + 5_000;
  while (lines.filter((l) => l.reqId !== undefined).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const perRequest = lines.filter((l) => l.reqId !== undefined);
  assert.deepEqual(perRequest.filter((l) => l.level === DEBUG).map((l) => `${l.url} ${l.status}`), Array(3).fill('/metrics 200'));
  assert.deepEqual(perRequest.filter((l) => l.level === INFO).map((l) => `${l.url} ${l.status}`), ['/metrics 401']);
});
