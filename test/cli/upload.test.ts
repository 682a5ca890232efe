// `originpull upload`: token sources (--token, ORIGINPULL_API_TOKEN, <data-dir>/admin-token), local
// checks before sending, the summary, --wait with progress, against the recording stand-in API.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createCa, encryptPrivateKeyPem, issueCertificate } from '../../src/pki/index.ts';
import { ZONE_ID, startStandIn, type StandIn } from '../origin/v4-stand-in.ts';
import { runCli } from './run-cli.ts';

const TOKEN = 'cli-token-456';
let dir: string;
let api: StandIn;
const f = (name: string) => join(dir, name);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-cli-upload-'));
  const ca = await createCa({ commonName: 'example.com', keyType: 'p256' });
  const leaf = await issueCertificate({ ca, commonName: 'app.example.com', usage: 'client' });
  const other = await issueCertificate({ ca, commonName: 'other', usage: 'client' });
  writeFileSync(f('cert.crt'), leaf.certPem);
  writeFileSync(f('cert.key'), leaf.keyPem);
  writeFileSync(f('other.key'), other.keyPem);
  writeFileSync(f('enc.key'), encryptPrivateKeyPem(leaf.keyPem, 'pass1234'));
  writeFileSync(f('admin-token'), `${TOKEN}\n`);
  api = await startStandIn({ token: TOKEN });
});
after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  api.requests.length = 0;
  api.statusScript = ['active'];
  api.zoneEnabled = false;
});

const base = () => ['upload', '--zone', 'example.com', '--cert', f('cert.crt'), '--key', f('cert.key'), '--api', api.url];

describe('originpull upload', () => {
  it('zone-level with --token: uploads and prints the certificate id and status', async () => {
    const r = await runCli([...base(), '--token', TOKEN]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Uploaded a zone-level client certificate to zone example\.com \(023e105f4ecef8ad9ca31a8372d0c353\)/);
    assert.match(r.stdout, /certificate id: zone-cert-1\n {2}status: {9}pending_deployment/);
    assert.ok(api.requests.some((q) => q.method === 'POST' && q.url === `/client/v4/zones/${ZONE_ID}/origin_tls_client_auth`));
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(TOKEN));
    assert.match(r.stdout, /add --enable/);
    const enabled = await runCli([...base(), '--token', TOKEN, '--enable']);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stdout, /zone-level AOP: enabled/);
  });

  it('the token from ORIGINPULL_API_TOKEN, else from <data-dir>/admin-token', async () => {
    const env = await runCli(base(), { env: { ORIGINPULL_API_TOKEN: TOKEN } });
    assert.equal(env.code, 0, env.stderr);
    const file = await runCli([...base(), '--data-dir', dir]);
    assert.equal(file.code, 0, file.stderr);
    assert.ok(api.requests.every((q) => q.authorization === `Bearer ${TOKEN}`));
    const none = await runCli([...base(), '--data-dir', join(dir, 'empty')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no API token: use --token, ORIGINPULL_API_TOKEN, or run where .*admin-token exists/);
  });

  it('--hostname a,b --wait: per-hostname upload and association, progress until active', async () => {
    api.statusScript = ['pending_deployment', 'active'];
    const r = await runCli([...base(), '--token', TOKEN, '--hostname', 'app.example.com,api.example.com', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Waiting for active…$/m);
    assert.match(r.stderr, /Waiting for active: certificate pending_deployment, app\.example\.com pending_deployment, api\.example\.com pending_deployment/);
    assert.match(r.stderr, /Waiting for active: active \(/);
    assert.match(r.stdout, /hostname app\.example\.com: active\n {2}hostname api\.example\.com: active/);
    const put = api.requests.find((q) => q.method === 'PUT');
    assert.deepEqual(put?.body, {
      config: [
        { hostname: 'app.example.com', cert_id: 'host-cert-1', enabled: true },
        { hostname: 'api.example.com', cert_id: 'host-cert-1', enabled: true },
      ],
    });
  });

  it('--wait ending in deployment_timed_out: exit 1', async () => {
    api.statusScript = ['deployment_timed_out'];
    const r = await runCli([...base(), '--token', TOKEN, '--wait', '--json']);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { active: boolean }).active, false);
  });

  it('checks locally first: a key for another certificate, or an encrypted key, is refused before any request', async () => {
    const mismatch = await runCli(['upload', '--zone', 'example.com', '--cert', f('cert.crt'), '--key', f('other.key'), '--api', api.url, '--token', TOKEN]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /--key does not match --cert/);
    const encrypted = await runCli(['upload', '--zone', 'example.com', '--cert', f('cert.crt'), '--key', f('enc.key'), '--api', api.url, '--token', TOKEN]);
    assert.equal(encrypted.code, 1);
    assert.match(encrypted.stderr, /is encrypted; the API needs the key in clear/);
    assert.equal(api.requests.length, 0);
  });

  it('a wrong token: the API\'s message and a hint', async () => {
    const r = await runCli([...base(), '--token', 'nope']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HTTP 401: Authentication error \(10000\) — check --token/);
  });

  it('--help shows examples', async () => {
    const r = await runCli(['upload', '--help']);
    assert.match(r.stdout, /Examples:\n {2}\$ originpull upload --zone example\.com/);
  });
});
