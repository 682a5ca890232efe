// Pools are per peer identity: connections made with one client certificate are never used for
// another; a certificate switch under load drops nothing and new connections carry the new
// certificate; no connection outlives its certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigBuilder, clientCert, fingerprintOf, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { echoHandler, startTlsOrigin, type EchoBody, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor } from './harness.ts';
import { poolRetiredChannel, upstreamConnectChannel, type PoolRetiredEvent, type UpstreamConnectEvent } from '../../src/edge/index.ts';
import type { PemPair } from '../../src/pki/index.ts';

let inst: TestInstallation;
let customerCa: PemPair;
let origin: TestOrigin;
const visitor = new Visitor();

before(async () => {
  inst = await newInstallation();
  customerCa = await newCa('customer CA');
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('o'), ['o.test']), clientCa: [customerCa.certPem, inst.originPullCa.certPem] });
});

after(async () => {
  await visitor.close();
  await origin.close();
});

test('two hostnames on one origin address with different certificates never share a connection', async () => {
  const [certA, certB] = await Promise.all([clientCert(customerCa, 'a'), clientCert(customerCa, 'b')]);
  const b = new ConfigBuilder(inst);
  const z = b.zone('pool.test', { aopEnabled: true });
  const ca = b.cert(z, 'hostname', certA);
  const cb = b.cert(z, 'hostname', certB);
  b.record(z, 'a.pool.test', { httpsPort: origin.port });
  b.record(z, 'b.pool.test', { httpsPort: origin.port });
  b.associate(z, 'a.pool.test', ca);
  b.associate(z, 'b.pool.test', cb);
  const edge = await startTestEdge(inst, b.build());
  const expected: Record<string, string> = { 'a.pool.test': fingerprintOf(certA.certPem), 'b.pool.test': fingerprintOf(certB.certPem) };
  const firstRequest = origin.requests.length;
  try {
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = 0; i < 25; i++) {
          const host = (i + worker) % 2 === 0 ? 'a.pool.test' : 'b.pool.test';
          const res = await visitor.get(edge.httpPort, host);
          assert.equal(res.status, 200, res.text);
          assert.equal(res.json<EchoBody>().fingerprint, expected[host]);
        }
      }),
    );
    const byConnection = new Map<number, Set<string>>();
    for (const r of origin.requests.slice(firstRequest)) {
      const host = r.headers.host!;
      assert.equal(r.connection.fingerprint, expected[host], `request for ${host} on a connection presenting another certificate`);
      if (!byConnection.has(r.connection.id)) byConnection.set(r.connection.id, new Set());
      byConnection.get(r.connection.id)!.add(host);
    }
    for (const [id, hosts] of byConnection) assert.equal(hosts.size, 1, `connection ${id} carried ${[...hosts].join(' and ')}`);
    // Keep-alive works: far fewer connections than requests.
    assert.ok(byConnection.size <= 20, `${byConnection.size} connections for 200 requests`);
    assert.equal(edge.edge.pools.size, 2);
  } finally {
    await edge.close();
  }
});

test('zero-downtime zone certificate replacement under continuous load', async () => {
  const [oldCert, newCert] = await Promise.all([clientCert(customerCa, 'old'), clientCert(customerCa, 'new')]);
  const OLD = fingerprintOf(oldCert.certPem);
  const NEW = fingerprintOf(newCert.certPem);
  const b = new ConfigBuilder(inst);
  const z = b.zone('rotate.test', { aopEnabled: true });
  const oldStored = b.cert(z, 'zone', oldCert);
  b.record(z, 'www.rotate.test', { httpsPort: origin.port });
  const edge = await startTestEdge(inst, b.build(), { drainTimeoutMs: 2_000 });
  const retired: PoolRetiredEvent[] = [];
  const onRetired = (m: unknown) => retired.push(m as PoolRetiredEvent);
  diagnostics.subscribe(poolRetiredChannel.name as string, onRetired);
  // When each origin connection was *started*, by the edge's own account: the origin only sees a
  // connection once its handshake is done, which on a loaded machine can be well after the start.
  const connects: { startedAt: number; fingerprint: string | null }[] = [];
  const onConnect = (m: unknown) => {
    const e = m as UpstreamConnectEvent;
    connects.push({ startedAt: Date.now() - e.durationMs, fingerprint: e.pool.identity?.fingerprint ?? null });
  };
  diagnostics.subscribe(upstreamConnectChannel.name as string, onConnect);

  let running = true;
  let ok = 0;
  const failures: string[] = [];
  // `startedAt`: when the visitor sent it. Requests in flight at the switch may finish on the old
  // connection (that is the zero-downtime part); every request started after it must use the new one.
  const seen: { startedAt: number; fingerprint: string | null }[] = [];
  const load = Array.from({ length: 8 }, async () => {
    while (running) {
      try {
        const startedAt = Date.now();
        const res = await visitor.get(edge.httpPort, 'www.rotate.test');
        if (res.status !== 200) failures.push(`${res.status} ${res.text}`);
        else {
          ok++;
          seen.push({ startedAt, fingerprint: res.json<EchoBody>().fingerprint });
        }
      } catch (err) {
        failures.push(String(err));
      }
    }
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await sleep(300);
    // Upload the new certificate (newest zone certificate wins), then delete the old one.
    b.cert(z, 'zone', newCert);
    edge.apply(b.build());
    const switchedAt = Date.now();
    await sleep(300);
    b.deleteCert(oldStored);
    edge.apply(b.build());
    await sleep(300);
    running = false;
    await Promise.all(load);

    assert.deepEqual(failures, []);
    assert.ok(ok > 50, `only ${ok} requests completed`);
    assert.ok(seen.some((s) => s.fingerprint === OLD) && seen.some((s) => s.fingerprint === NEW));
    const startedAfter = seen.filter((s) => s.startedAt > switchedAt);
    assert.ok(startedAfter.length > 20, `only ${startedAfter.length} requests started after the switch`);
    const lateOld = startedAfter.filter((s) => s.fingerprint !== NEW);
    assert.equal(lateOld.length, 0, 'requests started after the switch went out with the old certificate');
    assert.ok(origin.connections.some((c) => c.at >= switchedAt && c.fingerprint === NEW), 'no connection with the new certificate');
    // The retired pool starts no connection after the switch (one it started before may finish after).
    const startedLate = connects.filter((c) => c.startedAt > switchedAt + 1);
    for (const c of startedLate) assert.equal(c.fingerprint, NEW, 'a connection started after the switch used the old certificate');
    assert.ok(retired.some((r) => r.pool.identity?.fingerprint === OLD && r.reason === 'removed'), 'the old pool was not retired');
  } finally {
    running = false;
    diagnostics.unsubscribe(poolRetiredChannel.name as string, onRetired);
    diagnostics.unsubscribe(upstreamConnectChannel.name as string, onConnect);
    await edge.close();
  }
});

test('a pooled connection is not kept past its client certificate expiry', async () => {
  const cert = await clientCert(customerCa, 'short-lived');
  const b = new ConfigBuilder(inst);
  const z = b.zone('expiry.test', { aopEnabled: true });
  const stored = b.cert(z, 'zone', cert);
  // The edge reads expiry from the stored facts; pretend this one ends in 1.2 s.
  stored.expiresOn = Date.now() + 1_200;
  b.record(z, 'www.expiry.test', { httpsPort: origin.port });
  const edge = await startTestEdge(inst, b.build());
  try {
    const first = (await visitor.get(edge.httpPort, 'www.expiry.test')).json<EchoBody>();
    const again = (await visitor.get(edge.httpPort, 'www.expiry.test')).json<EchoBody>();
    assert.equal(again.connection, first.connection, 'keep-alive reuses the connection before expiry');
    await new Promise((r) => setTimeout(r, 2_500));
    const after = (await visitor.get(edge.httpPort, 'www.expiry.test')).json<EchoBody>();
    assert.notEqual(after.connection, first.connection, 'the connection made with the expiring certificate was reused after its expiry');
  } finally {
    await edge.close();
  }
});

test('global certificate pool is shared by hostnames with the same SNI identity only', async () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('shared.test', { tlsClientAuth: 'on' });
  b.record(z, 'a.shared.test', { httpsPort: origin.port });
  b.record(z, 'b.shared.test', { httpsPort: origin.port });
  const edge = await startTestEdge(inst, b.build());
  try {
    for (const host of ['a.shared.test', 'b.shared.test', 'a.shared.test']) {
      const res = await visitor.get(edge.httpPort, host);
      assert.equal(res.json<EchoBody>().servername, host);
    }
    // Same certificate but different SNI: separate pools (TLS sessions are per server name).
    assert.equal(edge.edge.pools.size, 2);
  } finally {
    await edge.close();
  }
});

test('new origin connections resume the TLS session, even after a garbage collection', async () => {
  // undici's own session cache holds sessions through WeakRefs: a GC used to mean a full handshake.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const slow = await startTlsOrigin({
    cert: await serverCert(await newCa('o'), ['o.test']),
    clientCa: inst.originPullCa.certPem,
    // Slow answers keep connections busy, so concurrent requests need new ones.
    handler: (req, res, conn) => {
      const end = res.end.bind(res) as (body: string) => void;
      res.end = ((body: string) => setTimeout(() => end(body), 30)) as unknown as typeof res.end;
      echoHandler(req, res, conn);
    },
  });
  const b = new ConfigBuilder(inst);
  const z = b.zone('resume.test', { tlsClientAuth: 'on' });
  b.record(z, 'www.resume.test', { httpsPort: slow.port });
  const edge = await startTestEdge(inst, b.build());
  try {
    const first = await visitor.get(edge.httpPort, 'www.resume.test');
    assert.equal(first.json<EchoBody>().resumed, false, 'the first connection is a full handshake');
    await new Promise((r) => setTimeout(r, 50));
    gc();
    await new Promise((r) => setTimeout(r, 50));
    // Concurrent requests need more connections than the pool holds: each new one must resume.
    await Promise.all(Array.from({ length: 4 }, () => visitor.get(edge.httpPort, 'www.resume.test')));
    const later = slow.connections.slice(1);
    assert.ok(later.length >= 2, `${later.length} new connections`);
    assert.deepEqual(
      later.map((c) => c.resumed),
      later.map(() => true),
      'every later connection resumed',
    );
  } finally {
    await edge.close();
    await slow.close();
  }
});
