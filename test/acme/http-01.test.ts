// HTTP-01 on the edge: a challenge token in the snapshot is answered on the HTTP listener, for its
// own host only and before routing (a name with no reachable origin is validated all the same);
// other tokens and other paths go to the origin as any request does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcmeChallenge, ConfigData } from '../../src/domain/index.ts';
import { ConfigBuilder, newInstallation } from '../helpers/pki.ts';
import { startHttpOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor } from '../edge/harness.ts';

function challenge(zoneId: string, hostname: string, token: string): AcmeChallenge {
  return {
    token,
    zoneId,
    packId: '00000000-0000-4000-8000-000000000001',
    hostname,
    type: 'http-01',
    keyAuthorization: `${token}.thumbprint-of-the-account-key`,
    certificatePem: null,
    privateKeySealed: null,
    status: 'pending',
    createdOn: Date.now(),
  };
}

test('the edge answers its HTTP-01 tokens from the snapshot, for their host only, before routing', async (t) => {
  const inst = await newInstallation();
  const origin = await startHttpOrigin();
  t.after(() => origin.close());
  const b = new ConfigBuilder(inst);
  // always_use_https on: the challenge is answered over HTTP all the same, not redirected.
  const zone = b.zone('acme-edge.test', { sslMode: 'flexible', edge: { alwaysUseHttps: 'on' } });
  b.record(zone, 'www.acme-edge.test', { httpPort: origin.port });
  // A record whose origin nothing listens on: validation must not need the origin.
  b.record(zone, 'down.acme-edge.test', { httpPort: 1 });
  const data: ConfigData = {
    ...b.build(),
    acmeChallenges: [challenge(zone.id, 'www.acme-edge.test', 'tok-www'), challenge(zone.id, 'down.acme-edge.test', 'tok-down')],
  };
  const edge = await startTestEdge(inst, data);
  t.after(() => edge.close());
  const visitor = new Visitor();
  t.after(() => visitor.close());

  const answered = await visitor.get(edge.httpPort, 'www.acme-edge.test', '/.well-known/acme-challenge/tok-www');
  assert.equal(answered.status, 200);
  assert.equal(answered.text, 'tok-www.thumbprint-of-the-account-key');
  assert.equal(answered.headers['cache-control'], 'no-store');
  assert.equal(origin.requests.length, 0, 'answered by the edge itself');

  // Pebble (and Let's Encrypt on a non-default port) sends the port in Host.
  const withPort = await visitor.get(edge.httpPort, `down.acme-edge.test:${edge.httpPort}`, '/.well-known/acme-challenge/tok-down');
  assert.deepEqual([withPort.status, withPort.text], [200, 'tok-down.thumbprint-of-the-account-key']);

  const head = await visitor.get(edge.httpPort, 'www.acme-edge.test', '/.well-known/acme-challenge/tok-www', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');

  // Another host's token, or an unknown token: handled like any request (here: the redirect to HTTPS).
  const foreign = await visitor.get(edge.httpPort, 'www.acme-edge.test', '/.well-known/acme-challenge/tok-down');
  assert.equal(foreign.status, 301);
  const unknown = await visitor.get(edge.httpPort, 'www.acme-edge.test', '/.well-known/acme-challenge/nope');
  assert.equal(unknown.status, 301);
  assert.equal(origin.requests.length, 0);

  // Without the redirect they reach the origin, which may answer its own ACME client's tokens.
  b.settings(zone, { edge: { alwaysUseHttps: 'off' } });
  const challenges = data.acmeChallenges;
  edge.apply({ ...b.build(), acmeChallenges: challenges });
  await visitor.get(edge.httpPort, 'www.acme-edge.test', '/.well-known/acme-challenge/tok-down');
  await visitor.get(edge.httpPort, 'www.acme-edge.test', '/.well-known/acme-challenge/nope');
  assert.deepEqual(origin.requests.map((r) => r.url), ['/.well-known/acme-challenge/tok-down', '/.well-known/acme-challenge/nope']);

  // Once the challenge leaves the snapshot, the token is the origin's again.
  edge.apply({ ...b.build(), acmeChallenges: [] });
  await visitor.get(edge.httpPort, 'www.acme-edge.test', '/.well-known/acme-challenge/tok-www');
  assert.equal(origin.requests.length, 3);
});
