// The pure planner: which alerts are due for which certificates, and why pending ones stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EDGE_SETTINGS, type Account, type CertificatePack, type DnsRecord, type EdgeCertificate, type HostnameAssociation, type StoredCertificate, type Zone } from '../../src/domain/index.ts';
import type { AlertDelivery, AlertPolicy } from '../../src/store/index.ts';
import { ADVANCED_CERTIFICATE_ALERT, EDGE_CUSTOM_EXPIRY_ALERT, UNIVERSAL_SSL_ALERT, EXPIRED_IN_USE_ALERT, HOSTNAME_EXPIRY_ALERT, planAlerts, ZONE_EXPIRY_ALERT, type AlertPayload } from '../../src/notify/index.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2031-03-01T00:00:00Z');
const account: Account = { id: 'a'.repeat(32), name: 'Acme', createdOn: 0 };
const accounts = new Map([[account.id, account]]);

function zone(name: string, over: Partial<Zone> = {}): Zone {
  return {
    id: name.replace(/\W/g, '').padEnd(32, '0').slice(0, 32),
    accountId: account.id,
    name,
    createdOn: 0,
    modifiedOn: 0,
    sslMode: 'full',
    sslModifiedOn: 0,
    tlsClientAuth: 'off',
    tlsClientAuthModifiedOn: 0,
    aopEnabled: true,
    aopModifiedOn: 0,
    edge: DEFAULT_EDGE_SETTINGS,
    edgeModifiedOn: {},
    ...over,
  };
}

let seq = 0;
function cert(z: Zone, kind: 'zone' | 'hostname', expiresOn: number, over: Partial<StoredCertificate> = {}): StoredCertificate {
  seq++;
  return {
    id: `cert-${seq}`,
    zoneId: z.id,
    kind,
    certificatePem: '',
    privateKeySealed: '',
    issuer: 'CN=x',
    serialNumber: String(seq),
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: String(seq).padStart(64, '0'),
    notBefore: 0,
    expiresOn,
    uploadedOn: seq,
    deployVersion: seq,
    deleteVersion: null,
    deleteRequestedOn: null,
    ...over,
  };
}

function record(z: Zone, name: string): DnsRecord {
  return { id: name, zoneId: z.id, name, type: 'A', content: '192.0.2.1', proxied: true, ttl: 1, originHttpPort: 80, originHttpsPort: 443, originSni: null, originHostHeader: null, comment: null, createdOn: 0, modifiedOn: 0 };
}

function association(z: Zone, hostname: string, certId: string, enabled = true): HostnameAssociation {
  return { zoneId: z.id, hostname, certId, enabled, createdAt: 0, updatedAt: 0, version: 1 };
}

function policy(alertType: string, over: Partial<AlertPolicy> = {}): AlertPolicy {
  return { id: `policy-${alertType}`, accountId: account.id, name: `P ${alertType}`, description: '', enabled: true, alertType, alertInterval: null, webhookIds: ['w1', 'w2'], filters: {}, created: 0, modified: 0, ...over };
}

function asPending(d: ReturnType<typeof planAlerts>['deliveries'][number]): AlertDelivery {
  return { ...d, id: d.dedupeKey, status: 'pending', attempts: 0, lastAttemptAt: null, lastStatus: null, lastError: null, deliveredAt: null, leaseOwner: null, leaseUntil: null };
}

test('thresholds: nothing before 30 days, 30d then 14d, and only the most advanced one is due', () => {
  const z = zone('example.com');
  const c = cert(z, 'zone', T0 + 60 * DAY);
  const config = { zones: [z], records: [record(z, 'www.example.com')], certificates: [c], associations: [] };
  const plan = (now: number) => planAlerts({ config, accounts, policies: [policy(ZONE_EXPIRY_ALERT)], now, giveUpAfterMs: DAY });
  const events = (now: number) => [...new Set(plan(now).deliveries.map((d) => d.event))];
  assert.deepEqual(events(T0), []);
  assert.deepEqual(events(T0 + 30 * DAY - 1), []);
  assert.deepEqual(events(T0 + 30 * DAY), ['30d']);
  assert.deepEqual(events(T0 + 46 * DAY - 1), ['30d']);
  assert.deepEqual(events(T0 + 46 * DAY), ['14d']);
  assert.deepEqual(events(T0 + 70 * DAY), ['14d'], 'an expired certificate that never alerted gets the 14-day alert');

  const due = plan(T0 + 50 * DAY).deliveries;
  assert.deepEqual(due.map((d) => d.webhookId), ['w1', 'w2'], 'one row per webhook of the policy');
  assert.equal(due[0].dedupeKey, `${c.id}|14d|policy-${ZONE_EXPIRY_ALERT}|w1`);
  assert.deepEqual([due[0].createdAt, due[0].nextAttemptAt, due[0].giveUpAt], [T0 + 50 * DAY, T0 + 50 * DAY, T0 + 51 * DAY]);
  const payload = JSON.parse(due[0].payload) as AlertPayload;
  assert.equal(payload.alert_correlation_id, (JSON.parse(due[1].payload) as AlertPayload).alert_correlation_id, 'one alert, one correlation id');
  assert.deepEqual(payload.data, {
    certificate_id: c.id,
    days_til_expiration: 10,
    expires_on: new Date(T0 + 60 * DAY).toISOString(),
    hostnames: ['www.example.com'],
    zone_tag: z.id,
    zone_name: 'example.com',
    account_tag: account.id,
    account_name: 'Acme',
    level: 'zone',
    threshold: 14,
  });
  assert.equal(payload.ts, Math.floor((T0 + 50 * DAY) / 1000));
  assert.match(payload.text, /expires in 10 days/);

  const known = new Set(due.map((d) => d.dedupeKey));
  assert.deepEqual(planAlerts({ config, accounts, policies: [policy(ZONE_EXPIRY_ALERT)], now: T0 + 50 * DAY, giveUpAfterMs: DAY, known: (k) => known.has(k) }).deliveries, []);
});

test('zone-level: only the current (newest) certificate alerts; hostname-level: every uploaded one', () => {
  const z = zone('example.com');
  const old = cert(z, 'zone', T0 + 5 * DAY);
  const current = cert(z, 'zone', T0 + 20 * DAY);
  const h1 = cert(z, 'hostname', T0 + 10 * DAY);
  const h2 = cert(z, 'hostname', T0 + 25 * DAY); // not associated
  const gone = cert(z, 'hostname', T0 + 3 * DAY, { deleteVersion: 9 });
  const config = {
    zones: [z],
    records: [record(z, 'www.example.com'), record(z, 'api.example.com')],
    certificates: [old, current, h1, h2, gone],
    associations: [association(z, 'api.example.com', h1.id), association(z, 'off.example.com', h2.id, false)],
  };
  const policies = [policy(ZONE_EXPIRY_ALERT, { webhookIds: ['w'] }), policy(HOSTNAME_EXPIRY_ALERT, { webhookIds: ['w'] })];
  const plan = planAlerts({ config, accounts, policies, now: T0, giveUpAfterMs: DAY });
  const got = plan.deliveries.map((d) => [d.certificateId, d.event, d.alertType]);
  assert.deepEqual(got, [
    [current.id, '30d', ZONE_EXPIRY_ALERT],
    [h1.id, '14d', HOSTNAME_EXPIRY_ALERT],
    [h2.id, '30d', HOSTNAME_EXPIRY_ALERT],
  ]);
  const hostnames = (certId: string) => (JSON.parse(plan.deliveries.find((d) => d.certificateId === certId)!.payload) as AlertPayload).data.hostnames;
  assert.deepEqual(hostnames(current.id), ['www.example.com'], 'api.example.com uses its hostname certificate');
  assert.deepEqual(hostnames(h1.id), ['api.example.com']);
  assert.deepEqual(hostnames(h2.id), [], 'a disabled association presents nothing');

  // Pending rows for the replaced and the deleted certificate are cancelled, with the reason.
  const stale = (certId: string) => asPending({ ...plan.deliveries[0], certificateId: certId });
  assert.equal(plan.cancelReason(stale(old.id)), 'cancelled: a newer zone-level certificate replaced this one');
  assert.equal(plan.cancelReason(stale(gone.id)), 'cancelled: the certificate was deleted');
  assert.equal(plan.cancelReason(stale('never-seen')), 'cancelled: the certificate was deleted');
  assert.equal(plan.cancelReason(asPending(plan.deliveries[0])), null);
});

test('policies: disabled ones send nothing, filters.zones narrows, changes cancel pending rows', () => {
  const a = zone('a.example');
  const b = zone('b.example');
  const ca = cert(a, 'zone', T0 + DAY);
  const cb = cert(b, 'zone', T0 + DAY);
  const config = { zones: [a, b], records: [], certificates: [ca, cb], associations: [] };
  const filtered = policy(ZONE_EXPIRY_ALERT, { filters: { zones: [b.id] }, webhookIds: ['w1'] });
  let plan = planAlerts({ config, accounts, policies: [filtered], now: T0, giveUpAfterMs: DAY });
  assert.deepEqual(plan.deliveries.map((d) => d.certificateId), [cb.id]);
  const row = asPending(plan.deliveries[0]);

  const reason = (p: AlertPolicy | null) => planAlerts({ config, accounts, policies: p ? [p] : [], now: T0, giveUpAfterMs: DAY }).cancelReason(row);
  assert.equal(reason(filtered), null);
  assert.equal(reason(null), 'cancelled: the policy was deleted');
  assert.equal(reason({ ...filtered, enabled: false }), 'cancelled: the policy was disabled');
  assert.equal(reason({ ...filtered, webhookIds: ['w2'] }), 'cancelled: the webhook was removed from the policy');
  assert.equal(reason({ ...filtered, filters: { zones: [a.id] } }), "cancelled: the certificate's zone is no longer in the policy's filters");
  assert.equal(reason({ ...filtered, alertType: HOSTNAME_EXPIRY_ALERT }), "cancelled: the policy's alert type changed");

  plan = planAlerts({ config, accounts, policies: [{ ...filtered, enabled: false }], now: T0, giveUpAfterMs: DAY });
  assert.deepEqual(plan.deliveries, []);
  const otherAccount = planAlerts({ config, accounts, policies: [{ ...filtered, filters: {}, accountId: 'b'.repeat(32) }], now: T0, giveUpAfterMs: DAY });
  assert.deepEqual(otherAccount.deliveries, [], "an account's policy never sees another account's certificates");
});

test('expired and still presented: the in-use alert; not when nothing presents it', () => {
  const z = zone('example.com');
  const zc = cert(z, 'zone', T0 - DAY);
  const hc = cert(z, 'hostname', T0 - 2 * DAY);
  const config = {
    zones: [z],
    records: [record(z, 'www.example.com'), record(z, 'api.example.com')],
    certificates: [zc, hc],
    associations: [association(z, 'api.example.com', hc.id)],
  };
  const p = policy(EXPIRED_IN_USE_ALERT, { webhookIds: ['w'] });
  const plan = planAlerts({ config, accounts, policies: [p], now: T0, giveUpAfterMs: DAY });
  assert.deepEqual(plan.deliveries.map((d) => [d.certificateId, d.event]), [[zc.id, 'expired'], [hc.id, 'expired']]);
  const payload = JSON.parse(plan.deliveries[1].payload) as AlertPayload;
  assert.deepEqual([payload.data.threshold, payload.data.days_til_expiration, payload.data.level, payload.data.hostnames], [0, -2, 'hostname', ['api.example.com']]);
  assert.match(payload.text, /still presented to the origins of api\.example\.com/);

  // Zone-level AOP switched off, or SSL mode flexible: nothing presents the zone certificate.
  const off = { ...config, zones: [{ ...z, aopEnabled: false }] };
  const offPlan = planAlerts({ config: off, accounts, policies: [p], now: T0, giveUpAfterMs: DAY });
  assert.deepEqual(offPlan.deliveries.map((d) => d.certificateId), [hc.id]);
  assert.equal(offPlan.cancelReason(asPending(plan.deliveries[0])), 'cancelled: the certificate is no longer presented to origins');
  const flexible = { ...config, zones: [{ ...z, sslMode: 'flexible' as const }] };
  assert.deepEqual(planAlerts({ config: flexible, accounts, policies: [p], now: T0, giveUpAfterMs: DAY }).deliveries, []);
  assert.deepEqual(planAlerts({ config, accounts, policies: [p], now: T0 - 3 * DAY, giveUpAfterMs: DAY }).deliveries, [], 'not expired yet');
});

function edgeCert(z: Zone, hosts: string[], expiresOn: number, over: Partial<EdgeCertificate> = {}): EdgeCertificate {
  seq++;
  return {
    id: `edge-${seq}`,
    zoneId: z.id,
    certificatePem: '',
    privateKeySealed: '',
    bundleMethod: 'ubiquitous',
    hosts,
    issuer: 'Visitor CA',
    serialNumber: String(seq),
    signature: 'ECDSAWithSHA256',
    fingerprintSha256: String(seq).padStart(64, 'e'),
    notBefore: 0,
    expiresOn,
    uploadedOn: seq,
    modifiedOn: seq,
    priority: 0,
    deployVersion: seq,
    deleteVersion: null,
    deleteRequestedOn: null,
    ...over,
  };
}

test('custom edge certificates: 30d, 14d, then expired; hostnames by the edge rule; only their own type; deletion cancels', () => {
  const z = zone('example.com');
  const exact = edgeCert(z, ['www.example.com'], T0 + 60 * DAY);
  const wild = edgeCert(z, ['*.example.com'], T0 + 60 * DAY, { priority: 9 });
  const config = {
    zones: [z],
    records: ['www.example.com', 'api.example.com', 'a.b.example.com'].map((n) => record(z, n)),
    certificates: [],
    associations: [],
    edgeCertificates: [exact, wild],
  };
  const plan = (now: number, policies = [policy(EDGE_CUSTOM_EXPIRY_ALERT)]) => planAlerts({ config, accounts, policies, now, giveUpAfterMs: DAY });
  const events = (now: number) => [...new Set(plan(now).deliveries.map((d) => `${d.certificateId === exact.id ? 'exact' : 'wild'}:${d.event}`))].sort();
  assert.deepEqual(events(T0 + 30 * DAY - 1), []);
  assert.deepEqual(events(T0 + 30 * DAY), ['exact:30d', 'wild:30d']);
  assert.deepEqual(events(T0 + 46 * DAY), ['exact:14d', 'wild:14d']);
  assert.deepEqual(events(T0 + 60 * DAY - 1), ['exact:14d', 'wild:14d']);
  assert.deepEqual(events(T0 + 60 * DAY), ['exact:expired', 'wild:expired'], 'first seen expired: expired alone');

  const data = (id: string) => (JSON.parse(plan(T0 + 30 * DAY).deliveries.find((d) => d.certificateId === id)!.payload) as AlertPayload).data;
  assert.deepEqual(data(exact.id).hostnames, ['www.example.com'], 'an exact name beats a wildcard of higher priority');
  assert.deepEqual(data(wild.id).hostnames, ['api.example.com'], 'a wildcard covers one label only');
  assert.equal(data(exact.id).level, 'edge');
  const expired = JSON.parse(plan(T0 + 61 * DAY).deliveries[0].payload) as AlertPayload;
  assert.equal(expired.data.threshold, 0);
  assert.equal(expired.data.days_til_expiration, -1);

  // The AOP types never pick up edge certificates, nor this type AOP ones.
  assert.deepEqual(plan(T0 + 50 * DAY, [policy(ZONE_EXPIRY_ALERT), policy(HOSTNAME_EXPIRY_ALERT), policy(EXPIRED_IN_USE_ALERT)]).deliveries, []);
  const aop = cert(z, 'zone', T0 + 10 * DAY);
  assert.deepEqual([...new Set(planAlerts({ config: { ...config, certificates: [aop] }, accounts, policies: [policy(EDGE_CUSTOM_EXPIRY_ALERT)], now: T0 + 50 * DAY, giveUpAfterMs: DAY }).deliveries.map((d) => d.certificateId))].sort(), [exact.id, wild.id].sort());

  // Deleted (gone from the configuration): nothing due, pending rows cancelled.
  const pending = asPending(plan(T0 + 30 * DAY).deliveries.find((d) => d.certificateId === wild.id)!);
  const without = planAlerts({ config: { ...config, edgeCertificates: [exact] }, accounts, policies: [policy(EDGE_CUSTOM_EXPIRY_ALERT)], now: T0 + 30 * DAY, giveUpAfterMs: DAY });
  assert.equal(without.cancelReason(pending), 'cancelled: the certificate was deleted');
  assert.equal(plan(T0 + 30 * DAY).cancelReason(pending), null);
});

function pack(z: Zone, type: 'universal' | 'advanced', expiresOn: number | null, over: Partial<CertificatePack> = {}): CertificatePack {
  seq++;
  return {
    id: `pack-${seq}`,
    zoneId: z.id,
    type,
    hosts: [`h${seq}.${z.name}`],
    validationMethod: 'http',
    validityDays: 90,
    certificateAuthority: 'lets_encrypt',
    stage: expiresOn === null ? 'initializing' : 'issued',
    errorText: null,
    attempts: 0,
    nextAttemptAt: null,
    certificate:
      expiresOn === null
        ? null
        : { certificatePem: '', privateKeySealed: '', issuer: 'CN=ca', serialNumber: String(seq), signature: 'ECDSAWithSHA256', fingerprintSha256: `${seq}`.padEnd(64, 'f'), notBefore: 0, expiresOn, renewAt: expiresOn - 30 * DAY, deployVersion: seq },
    createdOn: 0,
    modifiedOn: 0,
    deleteVersion: null,
    deleteRequestedOn: null,
    ...over,
  };
}

test('certificate packs: each type watches its own packs; a renewal cancels the pending expiry alert of the replaced certificate', () => {
  const z = zone('example.com');
  const universal = pack(z, 'universal', T0 + 20 * DAY);
  const advanced = pack(z, 'advanced', null, { stage: 'issuance_failed', errorText: 'urn:ietf:params:acme:error:serverInternal: try later' });
  const base = { zones: [z], records: [], certificates: [], associations: [] };
  const policies = [policy(UNIVERSAL_SSL_ALERT, { webhookIds: ['w1'] }), policy(ADVANCED_CERTIFICATE_ALERT, { webhookIds: ['w1'] })];
  const plan = planAlerts({ config: { ...base, certificatePacks: [universal, advanced] }, accounts, policies, now: T0, giveUpAfterMs: DAY });
  assert.deepEqual(
    plan.deliveries.map((d) => [d.alertType, d.certificateId, d.event]),
    [
      [UNIVERSAL_SSL_ALERT, universal.id, `30d:${universal.certificate!.fingerprintSha256}`],
      [ADVANCED_CERTIFICATE_ALERT, advanced.id, 'issuance_failed:none'],
    ],
  );
  const failure = JSON.parse(plan.deliveries[1].payload) as AlertPayload;
  assert.equal(failure.data.expires_on, null);
  assert.deepEqual(failure.data.validation_errors, [{ message: 'urn:ietf:params:acme:error:serverInternal: try later' }]);

  const pending = plan.deliveries.map(asPending);
  const renewed = { ...universal, certificate: { ...universal.certificate!, fingerprintSha256: 'e'.repeat(64), expiresOn: T0 + 110 * DAY } };
  const later = planAlerts({ config: { ...base, certificatePacks: [renewed, advanced] }, accounts, policies, now: T0 + DAY, giveUpAfterMs: DAY });
  assert.equal(later.cancelReason(pending[0]), "cancelled: the pack's certificate was renewed");
  assert.equal(later.cancelReason(pending[1]), null, 'the failure still happened');
  assert.deepEqual(later.deliveries.filter((d) => d.certificateId === renewed.id), [], 'the renewed certificate is 109 days out');
  const gone = planAlerts({ config: { ...base, certificatePacks: [renewed] }, accounts, policies, now: T0 + DAY, giveUpAfterMs: DAY });
  assert.equal(gone.cancelReason(pending[1]), 'cancelled: the certificate was deleted');
});
