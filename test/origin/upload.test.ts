// The upload client's requests, checked on a stand-in v4 server that records them: zone lookup by
// name, zone-level and per-hostname uploads, the association PUT, and waiting for `active`.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApiClient, ApiError, UploadWaitError, apiUrls, fetchOriginPullCa, uploadCertificate } from '../../src/origin/index.ts';
import { createCa, issueCertificate, type PemPair } from '../../src/pki/index.ts';
import { ZONE_ID, startStandIn, type StandIn } from './v4-stand-in.ts';
import { closedPort } from './node-origins.ts';

const TOKEN = 'test-token-123';
let api: StandIn;
let leaf: PemPair;

before(async () => {
  const ca = await createCa({ commonName: 'example.com', keyType: 'p256' });
  leaf = await issueCertificate({ ca, commonName: 'app.example.com', usage: 'client' });
  api = await startStandIn({ token: TOKEN, caPem: ca.certPem });
});
after(() => api.close());
beforeEach(() => {
  api.requests.length = 0;
  api.statusScript = ['active'];
  api.zoneEnabled = false;
});

describe('apiUrls', () => {
  it('accepts the server root or the v4 base', () => {
    assert.deepEqual(apiUrls('http://h:4000'), { root: 'http://h:4000', v4: 'http://h:4000/client/v4' });
    assert.deepEqual(apiUrls('http://h:4000/client/v4/'), { root: 'http://h:4000', v4: 'http://h:4000/client/v4' });
    assert.throws(() => apiUrls('not a url'), ApiError);
  });
});

describe('uploadCertificate', () => {
  it('zone-level: resolves the zone by name, then POST /zones/{id}/origin_tls_client_auth with the PEMs', async () => {
    const client = new ApiClient({ baseUrl: api.url, token: TOKEN });
    const r = await uploadCertificate(client, { zone: 'example.com', certPem: leaf.certPem, keyPem: leaf.keyPem });
    assert.equal(r.level, 'zone');
    assert.equal(r.zoneId, ZONE_ID);
    assert.equal(r.certificate.id, 'zone-cert-1');
    assert.deepEqual(
      api.requests.map((q) => `${q.method} ${q.url}`),
      [
        'GET /client/v4/zones?name=example.com',
        `POST /client/v4/zones/${ZONE_ID}/origin_tls_client_auth`,
        // The zone's setting is read, not assumed.
        `GET /client/v4/zones/${ZONE_ID}/origin_tls_client_auth/settings`,
      ],
    );
    assert.deepEqual([r.zoneEnabled, r.zoneEnabledByUpload], [false, false]);
    const post = api.requests[1];
    assert.equal(post.authorization, `Bearer ${TOKEN}`);
    assert.equal(post.contentType, 'application/json');
    assert.deepEqual(post.body, { certificate: leaf.certPem, private_key: leaf.keyPem });
  });

  it('zone-level with enableZone: PUT …/origin_tls_client_auth/settings {enabled:true} after the upload', async () => {
    const client = new ApiClient({ baseUrl: api.url, token: TOKEN });
    const r = await uploadCertificate(client, { zone: ZONE_ID, certPem: leaf.certPem, keyPem: leaf.keyPem, enableZone: true });
    assert.equal(r.zoneEnabled, true);
    assert.deepEqual(
      api.requests.map((q) => `${q.method} ${q.url}`),
      [`POST /client/v4/zones/${ZONE_ID}/origin_tls_client_auth`, `PUT /client/v4/zones/${ZONE_ID}/origin_tls_client_auth/settings`],
    );
    assert.deepEqual(api.requests[1].body, { enabled: true });
  });

  it('a zone id is used as is, without a lookup', async () => {
    const client = new ApiClient({ baseUrl: `${api.url}/client/v4`, token: TOKEN });
    await uploadCertificate(client, { zone: ZONE_ID, certPem: leaf.certPem, keyPem: leaf.keyPem });
    assert.deepEqual(
      api.requests.map((q) => q.method),
      ['POST', 'GET'],
    );
  });

  it('per hostname: POST …/hostnames/certificates, then PUT …/hostnames with enabled:true for each', async () => {
    const client = new ApiClient({ baseUrl: api.url, token: TOKEN });
    const r = await uploadCertificate(client, { zone: 'example.com', certPem: leaf.certPem, keyPem: leaf.keyPem, hostnames: ['App.example.com', 'api.example.com'] });
    assert.equal(r.level, 'hostname');
    assert.deepEqual(
      api.requests.map((q) => `${q.method} ${q.url}`),
      [
        'GET /client/v4/zones?name=example.com',
        `POST /client/v4/zones/${ZONE_ID}/origin_tls_client_auth/hostnames/certificates`,
        `PUT /client/v4/zones/${ZONE_ID}/origin_tls_client_auth/hostnames`,
      ],
    );
    assert.deepEqual(api.requests[2].body, {
      config: [
        { hostname: 'app.example.com', cert_id: 'host-cert-1', enabled: true },
        { hostname: 'api.example.com', cert_id: 'host-cert-1', enabled: true },
      ],
    });
    assert.deepEqual(r.associations.map((a) => a.hostname), ['app.example.com', 'api.example.com']);
  });

  it('--wait polls the certificate (and each hostname) until active, reporting progress', async () => {
    api.statusScript = ['pending_deployment', 'pending_deployment', 'active'];
    const client = new ApiClient({ baseUrl: api.url, token: TOKEN });
    const seen: string[] = [];
    const r = await uploadCertificate(client, {
      zone: 'example.com',
      certPem: leaf.certPem,
      keyPem: leaf.keyPem,
      hostnames: ['app.example.com'],
      wait: true,
      pollIntervalMs: 10,
      onProgress: (s) => seen.push(`${s.certificate}/${s['app.example.com']}`),
    });
    assert.equal(r.active, true);
    assert.deepEqual(r.statuses, { certificate: 'active', 'app.example.com': 'active' });
    assert.deepEqual(seen, ['pending_deployment/pending_deployment', 'pending_deployment/pending_deployment', 'pending_deployment/pending_deployment', 'active/active']);
    assert.ok(api.requests.some((q) => q.url === `/client/v4/zones/${ZONE_ID}/origin_tls_client_auth/hostnames/certificates/host-cert-1`));
    assert.ok(api.requests.some((q) => q.url === `/client/v4/zones/${ZONE_ID}/origin_tls_client_auth/hostnames/app.example.com`));
  });

  it('--wait stops at deployment_timed_out (active: false), and gives up after its own deadline', async () => {
    api.statusScript = ['deployment_timed_out'];
    const client = new ApiClient({ baseUrl: api.url, token: TOKEN });
    const r = await uploadCertificate(client, { zone: 'example.com', certPem: leaf.certPem, keyPem: leaf.keyPem, wait: true, pollIntervalMs: 10 });
    assert.equal(r.active, false);
    assert.equal(r.statuses.certificate, 'deployment_timed_out');

    api.statusScript = ['pending_deployment'];
    await assert.rejects(
      uploadCertificate(client, { zone: 'example.com', certPem: leaf.certPem, keyPem: leaf.keyPem, wait: true, pollIntervalMs: 10, waitTimeoutMs: 100 }),
      UploadWaitError,
    );
  });

  it('API errors carry the envelope\'s messages; a bad token says so; an unknown zone is named', async () => {
    const bad = new ApiClient({ baseUrl: api.url, token: 'wrong' });
    await assert.rejects(uploadCertificate(bad, { zone: ZONE_ID, certPem: leaf.certPem, keyPem: leaf.keyPem }), (err: ApiError) => {
      assert.equal(err.status, 401);
      assert.match(err.message, /HTTP 401: Authentication error \(10000\) — check --token/);
      return true;
    });
    const client = new ApiClient({ baseUrl: api.url, token: TOKEN });
    await assert.rejects(uploadCertificate(client, { zone: 'nope.example', certPem: leaf.certPem, keyPem: leaf.keyPem }), /no zone named "nope\.example"/);
    await assert.rejects(uploadCertificate(client, { zone: ZONE_ID, certPem: 'garbage', keyPem: leaf.keyPem }), /HTTP 400: invalid certificate \(1002\)/);
  });

  it('a server that is not there: connection refused, said plainly', async () => {
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, token: TOKEN });
    await assert.rejects(client.resolveZone('example.com'), /connection refused/);
  });
});

describe('fetchOriginPullCa', () => {
  it('GETs /ssl/static/authenticated_origin_pull_ca.pem from the server root, without auth', async () => {
    const pem = await fetchOriginPullCa(`${api.url}/client/v4`);
    assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(api.requests.at(-1)?.url, '/ssl/static/authenticated_origin_pull_ca.pem');
    assert.equal(api.requests.at(-1)?.authorization, undefined);
  });
});
