// verify-origin against origins that enforce in different ways, that do not enforce, and that cannot
// be checked (plain HTTP, closed port, silent port). The real nginx/Apache/HAProxy/Caddy runs are in
// test/origin/config/*.test.ts.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createCa, issueCertificate, type PemPair } from '../../src/pki/index.ts';
import { VerifyOriginInputError, checkClientCertificate, parseOrigin, verifyOrigin, type VerifyOriginResult } from '../../src/origin/index.ts';
import { closedPort, startNodeOrigin, startPlainHttpOrigin, startSilentOrigin, type NodeOrigin } from './node-origins.ts';

const HOST = 'origin.test';

let ca: PemPair;
let client: PemPair;
let server: PemPair;
let serverCa: PemPair;

before(async () => {
  ca = await createCa({ commonName: 'example.test', keyType: 'p256' });
  serverCa = await createCa({ commonName: 'server CA', keyType: 'p256' });
  client = await issueCertificate({ ca, commonName: 'edge.example.test', usage: 'client' });
  server = await issueCertificate({ ca: serverCa, commonName: HOST, usage: 'server' });
});

const check = (r: VerifyOriginResult, id: string) => r.checks.find((c) => c.id === id);

async function against(origin: NodeOrigin, extra: Partial<Parameters<typeof verifyOrigin>[0]> = {}): Promise<VerifyOriginResult> {
  try {
    return await verifyOrigin({ origin: `127.0.0.1:${origin.port}`, hostname: HOST, cert: client.certPem, key: client.keyPem, timeoutMs: 3_000, ...extra });
  } finally {
    await origin.close();
  }
}

describe('verifyOrigin: origins that enforce', () => {
  // Node's TLS server sends "certificate required" itself but drops a bad certificate by closing the
  // connection after the handshake (its check runs in JS); the real servers' alerts are in test/origin/config.
  it('TLS 1.3, refused in the handshake: names the alert, or the close', async () => {
    const r = await against(await startNodeOrigin('enforce-tls', { server, clientCa: ca.certPem }));
    assert.equal(r.verdict, 'enforced', JSON.stringify(r.checks, null, 2));
    assert.equal(r.exitCode, 0);
    assert.match(check(r, 'tls')!.detail, /TLSv1\.3, origin certificate CN=origin\.test issued by CN=server CA/);
    assert.match(check(r, 'no-cert')!.detail, /TLS handshake alert "certificate required" \(116\)/);
    assert.match(check(r, 'foreign-cert')!.detail, /refused: the origin closed the connection without an HTTP response/);
    assert.match(check(r, 'given-cert')!.detail, /accepted: HTTP 200/);
  });

  it('TLS 1.2, refused during the handshake: still reachable, still enforced', async () => {
    const r = await against(await startNodeOrigin('enforce-tls', { server, clientCa: ca.certPem }, 'TLSv1.2'));
    assert.equal(r.verdict, 'enforced', JSON.stringify(r.checks, null, 2));
    assert.equal(r.probes.noCert.handshake, false);
    assert.equal(r.probes.noCert.outcome.kind, 'alert');
    assert.match(check(r, 'tls')!.detail, /TLSv1\.2/);
  });

  it('refused with an HTTP 400, as nginx does: says so with its reason', async () => {
    const r = await against(await startNodeOrigin('enforce-http', { server, clientCa: ca.certPem }));
    assert.equal(r.verdict, 'enforced', JSON.stringify(r.checks, null, 2));
    assert.match(check(r, 'no-cert')!.detail, /refused: HTTP 400 "No required SSL certificate was sent"/);
    assert.match(check(r, 'foreign-cert')!.detail, /refused: HTTP 400 "The SSL certificate error"/);
  });

  it('with --ca: checks the origin\'s own certificate chain and name', async () => {
    const good = await against(await startNodeOrigin('enforce-tls', { server, clientCa: ca.certPem }), { ca: serverCa.certPem });
    assert.equal(check(good, 'origin-cert')!.status, 'pass');
    assert.equal(good.exitCode, 0);
    const wrongName = await against(await startNodeOrigin('enforce-tls', { server, clientCa: ca.certPem }), { ca: serverCa.certPem, hostname: 'other.test' });
    assert.equal(check(wrongName, 'origin-cert')!.status, 'fail');
    assert.match(check(wrongName, 'origin-cert')!.detail, /name: .*other\.test/);
    // The origin enforces all the same: a failed --ca check is not "does not enforce".
    assert.equal(wrongName.verdict, 'enforced');
    assert.equal(wrongName.exitCode, 3);
    assert.match(wrongName.summary, /enforces client certificates for other\.test, but the origin's own certificate is not valid for other\.test \(.*name: /);
    const wrongCa = await against(await startNodeOrigin('enforce-tls', { server, clientCa: ca.certPem }), { ca: ca.certPem });
    assert.equal(check(wrongCa, 'origin-cert')!.status, 'fail');
    assert.match(check(wrongCa, 'origin-cert')!.detail, /^chain: /);
    assert.deepEqual([wrongCa.verdict, wrongCa.exitCode], ['enforced', 3]);
    assert.match(wrongCa.summary, /enforces client certificates for origin\.test, but the CA given \(--ca\) does not verify the origin's own certificate \(chain: /);
  });

  it('without --cert: the acceptance check is skipped, and said so', async () => {
    const r = await against(await startNodeOrigin('enforce-tls', { server, clientCa: ca.certPem }), { cert: undefined, key: undefined });
    assert.equal(r.verdict, 'enforced');
    assert.deepEqual(check(r, 'given-cert'), { id: 'given-cert', title: 'Given certificate accepted', status: 'skip', detail: 'skipped: no --cert/--key (or --global) given' });
  });
});

describe('verifyOrigin: origins that do not enforce', () => {
  it('log phase (optional): a request without a certificate is served → exit 1', async () => {
    const r = await against(await startNodeOrigin('log', { server, clientCa: ca.certPem }));
    assert.equal(r.verdict, 'not-enforced');
    assert.equal(r.exitCode, 1);
    assert.equal(check(r, 'no-cert')!.status, 'fail');
    assert.match(check(r, 'no-cert')!.detail, /accepted without a client certificate: HTTP 200/);
    assert.equal(check(r, 'foreign-cert')!.status, 'pass');
    assert.match(r.summary, /"log" phase/);
  });

  it('no client authentication at all: both refusals fail', async () => {
    const r = await against(await startNodeOrigin('open', { server, clientCa: ca.certPem }));
    assert.equal(r.verdict, 'not-enforced');
    assert.equal(check(r, 'no-cert')!.status, 'fail');
    assert.equal(check(r, 'foreign-cert')!.status, 'fail');
  });

  it('an origin that trusts another CA refuses the given certificate → exit 1, with the alert', async () => {
    const r = await against(await startNodeOrigin('enforce-tls', { server, clientCa: serverCa.certPem }));
    assert.equal(r.verdict, 'not-enforced');
    assert.equal(check(r, 'given-cert')!.status, 'fail');
    assert.match(r.summary, /refuses the given certificate: the origin closed the connection/);
  });

  it('an expired client certificate: warned about before connecting, and refused by the origin', async () => {
    const day = 86_400_000;
    const expired = await issueCertificate({ ca, commonName: 'edge.example.test', usage: 'client', notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) });
    const r = await against(await startNodeOrigin('enforce-tls', { server, clientCa: ca.certPem }), { cert: expired.certPem, key: expired.keyPem });
    assert.match(r.warnings.join('\n'), /client certificate expired on/);
    assert.equal(check(r, 'given-cert')!.status, 'fail');
  });
});

describe('verifyOrigin: origins that cannot be checked (exit 2)', () => {
  it('a closed port: connection refused', async () => {
    const port = await closedPort();
    const r = await verifyOrigin({ origin: `127.0.0.1:${port}`, hostname: HOST, timeoutMs: 3_000 });
    assert.equal(r.verdict, 'unreachable');
    assert.equal(r.exitCode, 2);
    assert.match(r.summary, /connection refused by 127\.0\.0\.1:\d+/);
    assert.deepEqual(
      r.checks.map((c) => [c.id, c.status]),
      [['tls', 'fail']],
    );
  });

  it('a plain-HTTP origin: names it', async () => {
    const r = await against(await startPlainHttpOrigin());
    assert.equal(r.verdict, 'unreachable');
    assert.equal(r.exitCode, 2);
    assert.match(r.summary, /plain-HTTP origin: port \d+ answered "HTTP\/1\.1 200 OK"/);
  });

  it('a port that never answers: times out after --timeout', async () => {
    const started = Date.now();
    const r = await against(await startSilentOrigin(), { timeoutMs: 300 });
    assert.equal(r.verdict, 'unreachable');
    assert.match(r.summary, /TCP connected but no TLS handshake within 300 ms/);
    assert.ok(Date.now() - started < 3_000);
  });
});

describe('verifyOrigin: input', () => {
  it('parses IP, IP:PORT, [IPv6]:PORT and bare IPv6', () => {
    assert.deepEqual(parseOrigin('203.0.113.10'), { host: '203.0.113.10', port: 443 });
    assert.deepEqual(parseOrigin('203.0.113.10:8443'), { host: '203.0.113.10', port: 8443 });
    assert.deepEqual(parseOrigin('[2001:db8::1]:8443'), { host: '2001:db8::1', port: 8443 });
    assert.deepEqual(parseOrigin('2001:db8::1'), { host: '2001:db8::1', port: 443 });
    assert.throws(() => parseOrigin('1.2.3.4:99999'), VerifyOriginInputError);
    assert.throws(() => parseOrigin('a:b:c'), VerifyOriginInputError);
  });

  it('refuses a key that does not match the certificate, before connecting', async () => {
    const other = await issueCertificate({ ca, commonName: 'x', usage: 'client' });
    assert.throws(() => checkClientCertificate(client.certPem, other.keyPem), /--key does not match --cert/);
    await assert.rejects(verifyOrigin({ origin: '127.0.0.1:1', hostname: HOST, cert: client.certPem, key: other.keyPem }), VerifyOriginInputError);
    await assert.rejects(verifyOrigin({ origin: '127.0.0.1:1', hostname: HOST, cert: client.certPem }), /--cert and --key go together/);
  });
});

