// `originpull edge-cert upload|list` against a real API on SQLite: the upload is stored and served
// to the edge, --wait returns once an edge has applied it, list shows it, and a refused upload
// prints only the API's reason (no wait started).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCa, encryptPrivateKeyPem, issueCertificate } from '../../src/pki/index.ts';
import { createZone, startApi } from '../api/harness.ts';
import { runCli } from './run-cli.ts';

test('edge-cert upload and list through the real API', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-cli-edge-cert-'));
  const h = await startApi({ listen: true });
  t.after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const zoneId = await createZone(h, 'shop.test');
  const ca = await createCa({ commonName: 'Shop CA', keyType: 'p256', days: 30 });
  const leaf = await issueCertificate({ ca, commonName: 'www.shop.test', usage: 'server', dnsNames: ['www.shop.test', 'shop.test'], keyType: 'p256', days: 20 });
  const outside = await issueCertificate({ ca, commonName: 'www.elsewhere.test', usage: 'server', dnsNames: ['www.elsewhere.test'], keyType: 'p256', days: 20 });
  const f = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const cert = f('cert.pem', leaf.certPem);
  const key = f('key.pem', leaf.keyPem);
  const api = ['--api', h.baseURL.replace(/\/client\/v4$/, ''), '--token', h.token];

  // --wait: the CLI polls while an edge (reported here) applies the change.
  const edge = setInterval(() => void h.edgeApplied(), 200);
  t.after(() => clearInterval(edge));
  const up = await runCli(['edge-cert', 'upload', '--zone', 'shop.test', '--cert', cert, '--key', key, '--wait', '--wait-timeout', '30', ...api]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /Uploaded an edge certificate to zone shop\.test:/);
  assert.match(up.stdout, /hosts: {10}www\.shop\.test, shop\.test/);
  assert.match(up.stdout, /status: {9}active/);
  assert.match(up.stderr, /Waiting for every edge to serve it: active/);
  const stored = await h.store.listEdgeCertificates(zoneId);
  assert.equal(stored.length, 1);

  const list = await runCli(['edge-cert', 'list', '--zone', 'shop.test', ...api]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`certificate id: ${stored[0]!.id}`));
  assert.match(list.stdout, /issuer: {9}Shop CA/);
  const json = await runCli(['edge-cert', 'list', '--zone', zoneId, '--json', ...api]);
  assert.deepEqual((JSON.parse(json.stdout) as { id: string }[]).map((c) => c.id), [stored[0]!.id]);

  // Refused: the API's reason, once, and no wait.
  const dup = await runCli(['edge-cert', 'upload', '--zone', 'shop.test', '--cert', cert, '--key', key, '--wait', ...api]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /HTTP 409/);
  assert.doesNotMatch(dup.stderr, /Waiting/);
  const foreign = await runCli(['edge-cert', 'upload', '--zone', 'shop.test', '--cert', f('o.pem', outside.certPem), '--key', f('o.key', outside.keyPem), ...api]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /HTTP 400: .*shop\.test/);
  const encrypted = await runCli(['edge-cert', 'upload', '--zone', 'shop.test', '--cert', cert, '--key', f('enc.key', encryptPrivateKeyPem(leaf.keyPem, 'pw123456')), ...api]);
  assert.equal(encrypted.code, 1);
  assert.match(encrypted.stderr, /is encrypted/);
  const badMethod = await runCli(['edge-cert', 'upload', '--zone', 'shop.test', '--cert', cert, '--key', key, '--bundle-method', 'fastest', ...api]);
  assert.match(badMethod.stderr, /--bundle-method: expected one of ubiquitous, optimal, force/);
  assert.equal((await h.store.listEdgeCertificates(zoneId)).length, 1, 'nothing more stored');
});
