// Cause: the retry after a stale kept-alive origin connection went through the pool's idle list again, so it took
// the next idle connection — as stale as the first when the origin had closed them all (a reload) — and the visitor got a 502.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { requestChannel } from '../../src/edge/observe.ts';
import type { RequestCtx } from '../../src/edge/request-ctx.ts';
import { startHttpOrigin, type TestOrigin } from '../helpers/origin.ts';
import { findBinary, missingPeer, nginxPeer, startPeer } from '../helpers/peers.ts';
import { ConfigBuilder, clientCert, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTestEdge, Visitor, type TestEdge } from '../edge/harness.ts';

let inst: TestInstallation;
let origin: TestOrigin;
let edge: TestEdge;
const visitor = new Visitor();
const seen = new Map<number, number>();

before(async () => {
  // Answers the first request of each connection (after a pause, so two requests in flight open two
  // connections) and closes the connection on its second request without a word: every kept-alive
  // connection is stale by the time it is reused.
  origin = await startHttpOrigin({
    handler: (req, res, conn) => {
      const n = (seen.get(conn.id) ?? 0) + 1;
      seen.set(conn.id, n);
      if (n > 1) return void req.socket.destroy();
      setTimeout(() => res.end('ok ' + conn.id), 100);
    },
  });
  inst = await newInstallation();
  const b = new ConfigBuilder(inst);
  const zone = b.zone('retry.test', { sslMode: 'flexible' });
  b.record(zone, 'www.retry.test', { httpPort: origin.port });
  edge = await startTestEdge(inst, b.build());
});

after(async () => {
  await visitor.close();
  await edge.close();
  await origin.close();
});

test('a retry after a stale pooled connection goes out on a fresh connection, not the next idle one', async () => {
  const fill = await Promise.all([visitor.get(edge.httpPort, 'www.retry.test'), visitor.get(edge.httpPort, 'www.retry.test')]);
  assert.deepEqual(fill.map((r) => r.status), [200, 200]);
  assert.equal(origin.connections.length, 2, 'two requests in flight filled the pool with two connections');

  const logged: RequestCtx[] = [];
  const onRequest = (ctx: unknown) => void logged.push(ctx as RequestCtx);
  requestChannel.subscribe(onRequest);
  try {
    const res = await visitor.get(edge.httpPort, 'www.retry.test');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, 'ok 3', 'answered on a third, new connection');
  } finally {
    requestChannel.unsubscribe(onRequest);
  }
  assert.equal(logged.length, 1);
  assert.equal(logged[0].attempts, 1, 'retried once');
  assert.equal(logged[0].reused, false, 'the retry did not reuse a pooled connection');
});

test('a zone certificate rotation under load with nginx reloads in the middle: no 502', async (t) => {
  const customerCa = await newCa('customer CA');
  const [oldCert, newCert, server] = await Promise.all([
    clientCert(customerCa, 'old zone client'),
    clientCert(customerCa, 'new zone client'),
    serverCert(await newCa('origin server CA'), ['origin.test']),
  ]);
  const nginx = nginxPeer({
    files: { 'server.crt': server.certPem, 'server.key': server.keyPem, 'ca.pem': customerCa.certPem },
    snippet: (ctx) => `
    server {
        listen 127.0.0.1:${ctx.port} ssl;
        ssl_certificate ${ctx.path('server.crt')};
        ssl_certificate_key ${ctx.path('server.key')};
        ssl_client_certificate ${ctx.path('ca.pem')};
        ssl_verify_client on;
        location / { return 200 "$ssl_client_s_dn\\n"; }
    }`,
  });
  const missing = missingPeer(nginx);
  if (missing) return t.skip(missing);
  const peer = await startPeer(nginx);
  const b = new ConfigBuilder(inst);
  const zone = b.zone('reload.test', { aopEnabled: true });
  const oldStored = b.cert(zone, 'zone', oldCert);
  b.record(zone, 'www.reload.test', { httpsPort: peer.port });
  const rotating = await startTestEdge(inst, b.build(), { drainTimeoutMs: 2_000 });
  // A graceful reload: new workers take the listener, the old ones close their idle kept-alive
  // connections — the edge's pooled connections go stale all at once.
  const reload = () => execFileSync(findBinary('nginx')!, ['-p', peer.dir + '/', '-c', peer.path('nginx.conf'), '-s', 'reload'], { stdio: 'pipe' });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  let running = true;
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  const presented = new Set<string>();
  const load = Array.from({ length: 6 }, async () => {
    while (running) {
      try {
        const res = await visitor.get(rotating.httpPort, 'www.reload.test');
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) presented.add(res.text.trim());
        else failures.push(`${res.status} ${res.text.slice(0, 300)}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  });
  try {
    await sleep(300);
    reload();
    await sleep(200);
    b.cert(zone, 'zone', newCert);
    rotating.apply(b.build());
    await sleep(100);
    reload();
    await sleep(200);
    b.deleteCert(oldStored);
    rotating.apply(b.build());
    reload();
    await sleep(400);
    reload();
    await sleep(400);
  } finally {
    running = false;
    await Promise.all(load);
    await rotating.close();
    await peer.stop();
  }
  const total = [...statuses.values()].reduce((a, n) => a + n, 0);
  assert.deepEqual(failures, [], `of ${total} requests`);
  assert.ok(total > 50, `only ${total} requests completed`);
  assert.deepEqual([...presented].sort(), ['CN=new zone client', 'CN=old zone client']);
});
