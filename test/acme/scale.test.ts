// Two API nodes' orderers and two edge nodes on one PostgreSQL, against Pebble: the name is
// ordered once (the orderers take turns through the advisory lock), both edges answer the
// HTTP-01 challenge while the CA validates (each applied it before the CA was asked), and both
// serve the certificate by the time the pack is active.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type PeerCertificate } from 'node:tls';
import type { Store } from '../../src/store/index.ts';
import { pebbleMissing } from '../helpers/pebble.ts';
import { postgresUnreachable } from '../helpers/postgres.ts';
import { TestSchema } from '../scale/harness.ts';
import { eventually, startAcmeHarness, zoneWithRecords, type AcmeHarness } from './harness.ts';

const skip = pebbleMissing() || (await postgresUnreachable()) || false;

function fetchChallenge(port: number, host: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/.well-known/acme-challenge/${token}`, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    req.end();
  });
}

function servedFingerprint(port: number, servername: string, ca: string): Promise<{ fingerprint: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerCertificate() as PeerCertificate;
      resolve({ fingerprint: peer.fingerprint256.replaceAll(':', '').toLowerCase(), authorized: socket.authorized });
      socket.end();
    });
    socket.on('error', reject);
  });
}

test('two orderers and two edges on PostgreSQL: one order, both edges answer the challenge and serve the certificate', { skip, timeout: 180_000 }, async (t) => {
  const schema = new TestSchema();
  const calls = { putAcmeChallenges: [0, 0], storeCertificatePackCertificate: [0, 0] };
  /** What each edge answered for each token at the moment the CA judged it valid. */
  const answers: string[][] = [];
  /** Set once started; the store wrapper reaches the edges through it. */
  const running: { h?: AcmeHarness } = {};
  t.after(async () => {
    await running.h?.close();
    await schema.drop();
  });
  const wrap = (store: Store, orderer: number): Store =>
    new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'putAcmeChallenges' || prop === 'storeCertificatePackCertificate') {
          return (...args: unknown[]) => {
            calls[prop][orderer]++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        if (prop === 'setAcmeChallengeStatus') {
          // Called once the CA decided; the challenge is still in every edge's snapshot.
          return async (token: string, status: string) => {
            const challenge = (await target.listAcmeChallenges((await target.listZones())[0].id)).find((c) => c.token === token)!;
            answers.push(await Promise.all(running.h!.edges.map((e) => fetchChallenge(e.addresses.http!.port, challenge.hostname, token))));
            answers[answers.length - 1].push(challenge.keyAuthorization);
            return (value as (...a: unknown[]) => Promise<void>).call(target, token, status);
          };
        }
        return value.bind(target);
      },
    });
  const h = await startAcmeHarness({ storeUrl: schema.url(), edges: 2, orderers: 2, wrapStore: wrap });
  running.h = h;
  const root = await h.pebble.root();
  const zone_id = await zoneWithRecords(h, 'pair.test', ['www.pair.test']);

  const active = await eventually('the pack to be active', async () => {
    const packs = (await h.cf.ssl.certificatePacks.list({ zone_id })).result;
    return packs[0]?.status === 'active' ? packs[0] : undefined;
  });
  const fingerprint = (active.certificates[0] as { fingerprint_sha256?: string }).fingerprint_sha256;
  for (const edge of h.edges) {
    const served = await servedFingerprint(edge.addresses.https!.port, 'www.pair.test', root);
    assert.deepEqual(served, { fingerprint, authorized: true }, `edge ${edge.name} serves the certificate once the pack is active`);
  }
  // A few more rounds on both nodes: nothing is ordered again.
  await Promise.all(h.orderers.map((o) => o.runOnce()));
  await Promise.all(h.orderers.map((o) => o.runOnce()));
  assert.equal(calls.putAcmeChallenges[0] + calls.putAcmeChallenges[1], 1, `one order across both nodes (${JSON.stringify(calls)})`);
  assert.equal(calls.storeCertificatePackCertificate[0] + calls.storeCertificatePackCertificate[1], 1);
  assert.equal(answers.length, 1);
  const [first, second, keyAuthorization] = answers[0];
  assert.equal(first, `200 ${keyAuthorization}`, 'the edge the CA asked answered');
  assert.equal(second, `200 ${keyAuthorization}`, 'the other edge answered too');
  assert.equal((await h.store.listEdges()).length, 2);
});
