// The respond/log phases when the visitor leaves first: the rest of the answer to a request
// without a body is read into the void so its pooled connection survives (bounded in time and
// size); a request with a body is aborted; the access log says 499 either way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ConfigBuilder, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { echoHandler, startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor, type TestEdge } from './harness.ts';
import { requestChannel } from '../../src/edge/index.ts';
import type { RequestCtx } from '../../src/edge/request-ctx.ts';
import diagnostics from 'node:diagnostics_channel';

let inst: TestInstallation;
let origin: TestOrigin;
let edge: TestEdge;
const visitor = new Visitor();
/** Status logged per request, with `gone` when the visitor left first. */
const statuses: string[] = [];
const onRequest = (m: unknown) => statuses.push(`${(m as RequestCtx).status}${(m as RequestCtx).visitorGone ? ' gone' : ''}`);

before(async () => {
  inst = await newInstallation();
  origin = await startTlsOrigin({
    cert: await serverCert(await newCa('o'), ['o.test']),
    clientCa: inst.originPullCa.certPem,
    // ?delay=ms holds the answer back; ?size=bytes answers that many bytes instead of the echo.
    handler: (req, res, conn) => {
      const query = new URL(req.url!, 'http://x').searchParams;
      const delay = Number(query.get('delay') ?? 0);
      const size = Number(query.get('size') ?? 0);
      if (query.has('trickle')) {
        // Headers and a first part at once, the rest later.
        req.resume();
        res.writeHead(200, { 'content-length': 20_480 });
        res.write(Buffer.alloc(10_240, 'a'));
        setTimeout(() => res.end(Buffer.alloc(10_240, 'b')), delay);
        return;
      }
      if (size > 0) {
        req.resume();
        setTimeout(() => res.end(Buffer.alloc(size, 'x')), delay);
        return;
      }
      const end = res.end.bind(res) as (body: string) => void;
      res.end = ((body: string) => setTimeout(() => end(body), delay)) as unknown as typeof res.end;
      echoHandler(req, res, conn);
    },
  });
  const b = new ConfigBuilder(inst);
  const z = b.zone('gone.test', { tlsClientAuth: 'on' });
  b.record(z, 'www.gone.test', { httpsPort: origin.port });
  edge = await startTestEdge(inst, b.build());
  diagnostics.subscribe(requestChannel.name as string, onRequest);
});

after(async () => {
  diagnostics.unsubscribe(requestChannel.name as string, onRequest);
  await visitor.close();
  await edge.close();
  await origin.close();
});

/** Sends a request and hangs up after `ms`, before the answer. */
function abandon(path: string, ms: number, body?: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: edge.httpPort, path, method: body ? 'POST' : 'GET', headers: { host: 'www.gone.test' }, agent: false });
    req.on('error', () => resolve());
    if (body) req.write(body);
    else req.end();
    setTimeout(() => {
      req.destroy();
      resolve();
    }, ms);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a visitor leaving before the answer does not cost the pooled origin connection', async () => {
  const warm = await visitor.get(edge.httpPort, 'www.gone.test', '/');
  assert.equal(warm.status, 200);
  const connections = origin.connections.length;
  statuses.length = 0;
  await abandon('/?delay=100', 30);
  await sleep(200);
  assert.deepEqual(statuses, ['499 gone']);
  const next = await visitor.get(edge.httpPort, 'www.gone.test', '/');
  assert.equal(next.status, 200);
  assert.equal(origin.connections.length, connections, 'no new origin connection was needed');
});

test('a visitor leaving in the middle of a body does not cost the origin connection either', async () => {
  const warm = await visitor.get(edge.httpPort, 'www.gone.test', '/');
  assert.equal(warm.status, 200);
  const connections = origin.connections.length;
  statuses.length = 0;
  await abandon('/?trickle=1&delay=150', 60);
  await sleep(250);
  assert.deepEqual(statuses, ['200 gone'], 'the headers had reached the visitor');
  const next = await visitor.get(edge.httpPort, 'www.gone.test', '/');
  assert.equal(next.status, 200);
  assert.equal(origin.connections.length, connections, 'no new origin connection was needed');
});

test('an abandoned answer larger than the drain limit is cut, not read to the end', async () => {
  const before = origin.connections.length;
  await abandon('/?delay=100&size=1048576', 30);
  await sleep(400);
  // The connection was cut: the next request needs a fresh one.
  const next = await visitor.get(edge.httpPort, 'www.gone.test', '/');
  assert.equal(next.status, 200);
  assert.ok(origin.connections.length > before, 'a new origin connection after the cut');
});

test('a request with a body is aborted when the visitor leaves mid-upload', async () => {
  statuses.length = 0;
  await abandon('/?delay=0', 50, 'partial body');
  await sleep(100);
  assert.deepEqual(statuses, ['499 gone']);
  const next = await visitor.get(edge.httpPort, 'www.gone.test', '/');
  assert.equal(next.status, 200);
});
