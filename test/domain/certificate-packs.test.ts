// The pack rules the orderer, the API and the snapshot builder share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acmePackFor, packDue, packStatus, planUniversalPacks, renewalTime, retryDelayMs, type CertificatePack, type DeploymentView, type EdgeNode } from '../../src/domain/index.ts';

const T = 1_800_000_000_000;

function pack(over: Partial<CertificatePack> = {}): CertificatePack {
  return {
    id: 'p1',
    zoneId: 'z',
    type: 'universal',
    hosts: ['www.example.com'],
    validationMethod: 'http',
    validityDays: 90,
    certificateAuthority: 'lets_encrypt',
    stage: 'initializing',
    errorText: null,
    attempts: 0,
    nextAttemptAt: null,
    certificate: null,
    createdOn: T,
    modifiedOn: T,
    deleteVersion: null,
    deleteRequestedOn: null,
    ...over,
  };
}

function withCert(deployVersion: number, notBefore = T, expiresOn = T + 90 * 86_400_000) {
  return {
    certificatePem: 'PEM',
    privateKeySealed: 'v1:k',
    issuer: 'Pebble',
    serialNumber: '1',
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: 'ab',
    notBefore,
    expiresOn,
    renewAt: renewalTime(notBefore, expiresOn),
    deployVersion,
  };
}

const edge = (appliedVersion: number): EdgeNode => ({ id: `e${appliedVersion}`, name: `e${appliedVersion}`, startedAt: T, lastHeartbeat: T, appliedVersion });
const view = (edges: EdgeNode[], now = T + 1000): DeploymentView => ({ liveEdges: edges, now, deadlineMs: 60_000 });

test('renewal at one third of the lifetime left; backoff doubles and is capped', () => {
  assert.equal(renewalTime(0, 90), 60);
  assert.equal(renewalTime(T, T + 45_000), T + 30_000);
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(n, { minMs: 100, maxMs: 500 })), [100, 200, 400, 500]);
  assert.equal(retryDelayMs(60), 6 * 3_600_000);
});

test('status: the stage while there is no certificate; the certificate\'s deployment once there is', () => {
  assert.equal(packStatus(pack(), view([edge(5)])), 'initializing');
  assert.equal(packStatus(pack({ stage: 'pending_validation' }), view([edge(5)])), 'pending_validation');
  assert.equal(packStatus(pack({ stage: 'validation_failed', errorText: 'refused' }), view([edge(5)])), 'validation_timed_out');
  assert.equal(packStatus(pack({ stage: 'issuance_failed' }), view([edge(5)])), 'issuance_timed_out');
  const issued = pack({ stage: 'issued', certificate: withCert(7) });
  assert.equal(packStatus(issued, view([edge(7), edge(6)])), 'pending_deployment', 'one live edge has not applied it');
  assert.equal(packStatus(issued, view([edge(7), edge(8)])), 'active');
  assert.equal(packStatus(issued, view([])), 'pending_deployment', 'no live edge serves it');
  assert.equal(packStatus({ ...issued, stage: 'validation_failed', errorText: 'refused' }, view([edge(7)])), 'active', 'a failed renewal keeps the certificate');
  assert.equal(packStatus(pack({ certificate: withCert(1, T - 10, T) }), view([edge(9)])), 'expired');
  assert.equal(packStatus(pack({ deleteVersion: 9, deleteRequestedOn: T }), view([edge(8)])), 'pending_deletion');
  assert.equal(packStatus(pack({ deleteVersion: 9, deleteRequestedOn: T }), view([edge(9)])), 'deleted');
});

test('due: new and failed packs once their backoff ran out, issued ones at renewal time, never deleted ones', () => {
  assert.ok(packDue(pack(), T));
  assert.ok(!packDue(pack({ stage: 'validation_failed', nextAttemptAt: T + 1 }), T));
  assert.ok(packDue(pack({ stage: 'validation_failed', nextAttemptAt: T }), T));
  const issued = pack({ stage: 'issued', certificate: withCert(1) });
  assert.ok(!packDue(issued, T + 1));
  assert.ok(packDue(issued, issued.certificate!.renewAt));
  assert.ok(!packDue(pack({ deleteVersion: 3 }), T));
});

test('universal plan: one pack per proxied exact name while on, none while off, duplicates and strays removed', () => {
  const www = pack({ id: 'a', hosts: ['www.example.com'] });
  const dup = pack({ id: 'b', hosts: ['www.example.com'] });
  const gone = pack({ id: 'c', hosts: ['old.example.com'] });
  const advanced = pack({ id: 'd', type: 'advanced', hosts: ['old.example.com'] });
  const plan = planUniversalPacks(true, ['www.example.com', 'api.example.com', '*.example.com'], [www, dup, gone, advanced]);
  assert.deepEqual(plan.create, ['api.example.com'], 'no wildcard: HTTP-01 cannot validate one');
  assert.deepEqual(plan.remove.map((p) => p.id), ['b', 'c'], 'advanced packs are the user\'s');
  assert.deepEqual(planUniversalPacks(false, ['www.example.com'], [www, advanced]), { create: [], remove: [www] });
});

test('the ACME certificate for a name: an unexpired one before an expired one, then the newer', () => {
  const old = pack({ id: 'old', certificate: withCert(1, T - 1000, T + 50_000) });
  const newer = pack({ id: 'new', certificate: withCert(2, T, T + 40_000) });
  const expired = pack({ id: 'exp', certificate: withCert(3, T + 10, T + 100) });
  assert.equal(acmePackFor('www.example.com', [old, newer, expired], T + 1000)!.id, 'new');
  assert.equal(acmePackFor('www.example.com', [old, expired], T + 60_000)!.id, 'exp', 'all expired: the newer');
  assert.equal(acmePackFor('api.example.com', [old], T), null);
  assert.equal(acmePackFor('www.example.com', [pack()], T), null, 'a pack without a certificate serves nothing');
});
