// `originpull verify-origin` against a real nginx in the enforce phase (origin-config's own
// output): --global checks acceptance with the installation's own certificate, and a wrong --ca
// says the CA does not verify the origin's certificate instead of "NOT ENFORCED".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa, issueCertificate, type PemPair } from '../../src/pki/index.ts';
import { renderOriginConfig } from '../../src/origin/index.ts';
import { missingPeer, nginxPeer, startPeer, type RunningPeer } from '../helpers/peers.ts';
import { runCli } from './run-cli.ts';

const HOST = 'origin.test';
const skip = missingPeer(nginxPeer({ snippet: () => '' }));

describe('verify-origin on a real nginx that enforces global AOP', { skip }, () => {
  let dir: string;
  let dataDir: string;
  let peer: RunningPeer;
  let serverCa: PemPair;
  let otherCa: PemPair;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'originpull-verify-nginx-'));
    dataDir = join(dir, 'data');
    // Creates the installation (secret key, origin-pull CA, global certificate) and prints its CA.
    const caPem = await runCli(['ca-pem', '--data-dir', dataDir], { env: { ORIGINPULL_API_TOKEN: 'not-printed' } });
    assert.equal(caPem.code, 0, caPem.stderr);
    serverCa = await createCa({ commonName: 'origin server CA', keyType: 'p256' });
    otherCa = await createCa({ commonName: 'unrelated CA', keyType: 'p256' });
    const server = await issueCertificate({ ca: serverCa, commonName: HOST, usage: 'server' });
    writeFileSync(join(dir, 'server-ca.pem'), serverCa.certPem);
    writeFileSync(join(dir, 'other-ca.pem'), otherCa.certPem);
    peer = await startPeer(
      nginxPeer({
        files: { 'origin-pull-ca.pem': caPem.stdout, 'origin.crt': server.certPem, 'origin.key': server.keyPem },
        snippet: (ctx) =>
          renderOriginConfig({
            server: 'nginx',
            phase: 'enforce',
            caFile: ctx.path('origin-pull-ca.pem'),
            certFile: ctx.path('origin.crt'),
            keyFile: ctx.path('origin.key'),
            serverName: HOST,
            listen: `127.0.0.1:${ctx.port}`,
          }),
      }),
    );
  });
  after(async () => {
    await peer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const args = (...extra: string[]) => ['verify-origin', '--origin', `127.0.0.1:${peer.port}`, '--host', HOST, ...extra];

  it('--global: the installation\'s certificate is accepted, so the check runs and passes (exit 0)', async () => {
    const r = await runCli(args('--global', '--data-dir', dataDir));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /No client certificate refused\s+ok\s+refused: HTTP 400 "No required SSL certificate was sent"/);
    assert.match(r.stdout, /Given certificate accepted\s+ok\s+accepted: HTTP/);
    assert.match(r.stdout, /^ENFORCED: /m);
  });

  it('--global without an installation, or with --cert as well: bad input, exit 2', async () => {
    const none = await runCli(args('--global', '--data-dir', join(dir, 'nowhere')));
    assert.equal(none.code, 2, none.stdout + none.stderr);
    assert.match(none.stderr, /--global needs the installation's secret key: cannot read .*nowhere\/secret\.key/);
    const both = await runCli(args('--global', '--data-dir', dataDir, '--cert', join(dir, 'server-ca.pem'), '--key', join(dir, 'server-ca.pem')));
    assert.equal(both.code, 2);
    assert.match(both.stderr, /either --global .* or --cert\/--key, not both/);
  });

  it('the right --ca: the origin certificate check passes (exit 0)', async () => {
    const r = await runCli(args('--global', '--data-dir', dataDir, '--ca', join(dir, 'server-ca.pem')));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Origin certificate valid \(--ca\)\s+ok/);
  });

  it('a wrong --ca: still ENFORCED, and says the CA given does not verify the origin\'s certificate (exit 3)', async () => {
    const r = await runCli(args('--global', '--data-dir', dataDir, '--ca', join(dir, 'other-ca.pem')));
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /NOT ENFORCED/);
    assert.match(r.stdout, /Origin certificate valid \(--ca\)\s+FAIL\s+chain: /);
    assert.match(r.stdout, /^ENFORCED: 127\.0\.0\.1:\d+ enforces client certificates for origin\.test, but the CA given \(--ca\) does not verify the origin's own certificate/m);
    const json = JSON.parse((await runCli(args('--global', '--data-dir', dataDir, '--ca', join(dir, 'other-ca.pem'), '--json'))).stdout) as { verdict: string; exitCode: number };
    assert.deepEqual([json.verdict, json.exitCode], ['enforced', 3]);
  });
});
