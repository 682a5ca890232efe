// `originpull verify-origin`: the table, --json, and the exit status (0 enforced, 1 not enforced,
// 2 could not check) against small node:https origins.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa, issueCertificate } from '../../src/pki/index.ts';
import { closedPort, startNodeOrigin, startPlainHttpOrigin, type NodeOrigin } from '../origin/node-origins.ts';
import { runCli } from './run-cli.ts';

let dir: string;
let enforcing: NodeOrigin;
let logging: NodeOrigin;
let plain: NodeOrigin;
const f = (name: string) => join(dir, name);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-cli-verify-'));
  const ca = await createCa({ commonName: 'example.test', keyType: 'p256' });
  const client = await issueCertificate({ ca, commonName: 'edge.example.test', usage: 'client' });
  const server = await issueCertificate({ ca, commonName: 'origin.test', usage: 'server' });
  const day = 86_400_000;
  const expired = await issueCertificate({ ca, commonName: 'edge.example.test', usage: 'client', notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) });
  writeFileSync(f('client.crt'), client.certPem);
  writeFileSync(f('client.key'), client.keyPem);
  writeFileSync(f('expired.crt'), expired.certPem);
  writeFileSync(f('expired.key'), expired.keyPem);
  enforcing = await startNodeOrigin('enforce-tls', { server, clientCa: ca.certPem });
  logging = await startNodeOrigin('log', { server, clientCa: ca.certPem });
  plain = await startPlainHttpOrigin();
});
after(async () => {
  await Promise.all([enforcing.close(), logging.close(), plain.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const args = (port: number, ...extra: string[]) => ['verify-origin', '--origin', `127.0.0.1:${port}`, '--host', 'origin.test', ...extra];

describe('originpull verify-origin', () => {
  it('an enforcing origin: a table of passing checks, ENFORCED, exit 0', async () => {
    const r = await runCli(args(enforcing.port, '--cert', f('client.crt'), '--key', f('client.key')));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^verify-origin 127\.0\.0\.1:\d+, Host origin\.test\n/);
    assert.match(r.stdout, /CHECK\s+RESULT\s+DETAIL/);
    assert.match(r.stdout, /TLS reachable\s+ok\s+TLSv1\.3/);
    assert.match(r.stdout, /No client certificate refused\s+ok\s+refused: TLS handshake alert "certificate required" \(116\)/);
    assert.match(r.stdout, /Foreign-CA certificate refused\s+ok\s+refused:/);
    assert.match(r.stdout, /Given certificate accepted\s+ok\s+accepted: HTTP 200/);
    assert.match(r.stdout, /^ENFORCED: /m);
  });

  it('--json: the typed result', async () => {
    const r = await runCli(args(enforcing.port, '--json'));
    assert.equal(r.code, 0);
    const json = JSON.parse(r.stdout) as { verdict: string; exitCode: number; checks: { id: string; status: string }[] };
    assert.equal(json.verdict, 'enforced');
    assert.deepEqual(
      json.checks.map((c) => `${c.id}:${c.status}`),
      ['tls:pass', 'no-cert:pass', 'foreign-cert:pass', 'given-cert:skip'],
    );
  });

  it('a log-phase origin: NOT ENFORCED, exit 1, says why', async () => {
    const r = await runCli(args(logging.port, '--cert', f('client.crt'), '--key', f('client.key')));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /No client certificate refused\s+FAIL\s+accepted without a client certificate: HTTP 200/);
    assert.match(r.stdout, /^NOT ENFORCED: the origin does not enforce: it serves requests without a client certificate/m);
  });

  it('a plain-HTTP origin: UNREACHABLE, exit 2, named as plain HTTP', async () => {
    const r = await runCli(args(plain.port));
    assert.equal(r.code, 2);
    assert.match(r.stdout, /^UNREACHABLE: plain-HTTP origin: port \d+ answered "HTTP\/1\.1 200 OK"/m);
  });

  it('a closed port: exit 2, connection refused', async () => {
    const r = await runCli(args(await closedPort(), '--json'));
    assert.equal(r.code, 2);
    const json = JSON.parse(r.stdout) as { verdict: string; summary: string };
    assert.equal(json.verdict, 'unreachable');
    assert.match(json.summary, /connection refused/);
  });

  it('an expired client certificate: warned on stderr before the table', async () => {
    const r = await runCli(args(enforcing.port, '--cert', f('expired.crt'), '--key', f('expired.key')));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^warning: the client certificate expired on /m);
    assert.match(r.stdout, /Given certificate accepted\s+FAIL\s+refused/);
  });

  it('bad input: exit 2 with the reason (key for another certificate, bad address)', async () => {
    const mismatch = await runCli(args(enforcing.port, '--cert', f('client.crt'), '--key', f('expired.key')));
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /--key does not match --cert/);
    const bad = await runCli(['verify-origin', '--origin', '1.2.3.4:70000', '--host', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /port out of range/);
  });

  it('a missing or unknown flag or a bad --timeout is bad input: exit 2, not 1 ("does not enforce")', async () => {
    const missing = await runCli(['verify-origin', '--host', 'origin.test']);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /required option '--origin <ip\[:port\]>' not specified/);
    const noHost = await runCli(['verify-origin', '--origin', `127.0.0.1:${enforcing.port}`]);
    assert.equal(noHost.code, 2, noHost.stderr);
    const unknown = await runCli(args(enforcing.port, '--cetr', 'x'));
    assert.equal(unknown.code, 2, unknown.stderr);
    const timeout = await runCli(args(enforcing.port, '--timeout', 'soon'));
    assert.equal(timeout.code, 2, timeout.stderr);
    assert.match(timeout.stderr, /--timeout <ms>' argument 'soon' is invalid/);
    const help = await runCli(['verify-origin', '--help']);
    assert.equal(help.code, 0);
  });

  it('--help explains the checks and exit status', async () => {
    const r = await runCli(['verify-origin', '--help']);
    assert.match(r.stdout, /Exit status: 0 the origin enforces/);
    assert.match(r.stdout, /Examples:\n {2}\$ originpull verify-origin/);
  });
});
