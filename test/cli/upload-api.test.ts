// `originpull upload` against the real API (SQLite store): the zone's AOP setting is read, not
// assumed; --enable with --hostname enables the hostnames' associations and says so; a refused
// POST under --wait prints the API's error alone, without a "Waiting…"/"failed" progress line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { createZone, startApi, type Harness } from '../api/harness.ts';
import { runCli } from './run-cli.ts';

let dir: string;
let h: Harness;
let zoneId: string;
const f = (name: string) => join(dir, name);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-cli-upload-api-'));
  h = await startApi({ listen: true });
  zoneId = await createZone(h, 'example.com');
  const ca = await createCa({ commonName: 'example.com', keyType: 'p256' });
  for (const name of ['zone', 'host', 'dup']) {
    const leaf = await issueCertificate({ ca, commonName: `${name}.example.com`, usage: 'client' });
    writeFileSync(f(`${name}.crt`), leaf.certPem);
    writeFileSync(f(`${name}.key`), leaf.keyPem);
  }
});
after(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const upload = (name: string, ...extra: string[]) =>
  runCli(['upload', '--zone', 'example.com', '--cert', f(`${name}.crt`), '--key', f(`${name}.key`), '--api', h.baseURL, ...extra], { env: { ORIGINPULL_API_TOKEN: h.token } });

describe('originpull upload against the real API', () => {
  it('zone-level without --enable on a zone whose AOP is already on: says it is on, not that it is off', async () => {
    const put = await h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { body: { enabled: true } });
    assert.equal(put.statusCode, 200, put.body);
    const r = await upload('zone');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /zone-level AOP: enabled \(it was on already\)/);
    assert.doesNotMatch(r.stdout, /add --enable|is off/);
    const off = await h.call('PUT', `/zones/${zoneId}/origin_tls_client_auth/settings`, { body: { enabled: false } });
    assert.equal(off.statusCode, 200);
    const again = await upload('dup');
    assert.match(again.stdout, /Zone-level AOP is off for this zone: add --enable/);
  });

  it('--hostname with --enable: the association is enabled in the API, and the summary says so', async () => {
    const r = await upload('host', '--hostname', 'app.example.com', '--enable');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Uploaded a per-hostname client certificate/);
    assert.match(r.stdout, /per-hostname AOP: enabled for app\.example\.com/);
    const a = await h.call('GET', `/zones/${zoneId}/origin_tls_client_auth/hostnames/app.example.com`);
    assert.equal(a.statusCode, 200, a.body);
    assert.equal(a.json().result.enabled, true);
  });

  it('--wait after a refused POST (the same certificate again, 409): only the API\'s error', async () => {
    const r = await upload('dup', '--wait');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /HTTP 409: This certificate \(SHA-256 [0-9a-f]{64}\) has already been uploaded .*\(1220\)/);
    assert.doesNotMatch(r.stderr, /Waiting for active|failed/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
