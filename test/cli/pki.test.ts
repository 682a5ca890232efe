// `originpull pki …` end to end: files written, modes, and everything checked with the openssl
// binary (verify, x509 -text, req -verify, pkey with the passphrase), as Cloudflare's guide does.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { OPENSSL_MISSING, openssl } from '../pki/openssl.ts';
import { findBinary } from '../helpers/peers.ts';
import { CLI_ENTRY, runCli } from './run-cli.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-cli-pki-'));
  writeFileSync(join(dir, 'pw'), 'correct horse battery\n');
  writeFileSync(join(dir, 'bad-pw'), 'wrong horse\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const p = (...names: string[]) => join(dir, ...names);
const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('originpull pki', { skip: OPENSSL_MISSING }, () => {
  it('init-ca by default: RSA-4096, 1826 days, CA:TRUE, key mode 0600, progress on stderr', async () => {
    const r = await runCli(['pki', 'init-ca', '--cn', 'example.com', '--out', p('rsa')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Generating RSA-4096 key/);
    assert.match(r.stdout, /Created CA \(rsa4096\)/);
    assert.equal(mode(p('rsa', 'rootca.key')), '600');
    const text = openssl(['x509', '-in', p('rsa', 'rootca.crt'), '-noout', '-text']).stdout;
    assert.match(text, /Public-Key: \(4096 bit\)/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /CA:TRUE/);
    const end = openssl(['x509', '-in', p('rsa', 'rootca.crt'), '-noout', '-enddate']).stdout;
    const days = (Date.parse(end.replace('notAfter=', '')) - Date.now()) / 86_400_000;
    assert.ok(days > 1825 && days < 1827, `validity ${days} days`);
    assert.equal(openssl(['pkey', '-in', p('rsa', 'rootca.key'), '-noout']).status, 0);
  });

  it('init-ca --encrypt with --passphrase-file: an AES-256 encrypted key that OpenSSL opens with the passphrase', async () => {
    const r = await runCli(['pki', 'init-ca', '--cn', 'example.com', '--key-type', 'p256', '--encrypt', '--passphrase-file', p('pw'), '--out', p('ca')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /key encrypted with AES-256/);
    const key = readFileSync(p('ca', 'rootca.key'), 'utf8');
    assert.match(key, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(openssl(['pkey', '-in', p('ca', 'rootca.key'), '-passin', `file:${p('pw')}`, '-noout']).status, 0);
    assert.notEqual(openssl(['pkey', '-in', p('ca', 'rootca.key'), '-passin', `file:${p('bad-pw')}`, '-noout']).status, 0);
  });

  it('init-ca refuses to overwrite a CA without --force', async () => {
    const r = await runCli(['pki', 'init-ca', '--cn', 'example.com', '--key-type', 'p256', '--out', p('ca')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /rootca\.crt already exists \(use --force to overwrite\)/);
  });

  it('issue with the encrypted CA: key + CSR + client certificate, as Cloudflare\'s cert.v3.ext says', async () => {
    const r = await runCli(['pki', 'issue', '--ca', p('ca'), '--cn', 'app.example.com', '--passphrase-file', p('pw'), '--out', p('issued')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(p('issued', 'cert.key')), '600');
    const verify = openssl(['verify', '-CAfile', p('ca', 'rootca.crt'), p('issued', 'cert.crt')]);
    assert.equal(verify.status, 0, verify.stderr);
    const text = openssl(['x509', '-in', p('issued', 'cert.crt'), '-noout', '-text']).stdout;
    assert.match(text, /Subject: CN ?= ?app\.example\.com/);
    assert.match(text, /Issuer: CN ?= ?example\.com/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage:\s*\n\s+TLS Web Client Authentication\n/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    const req = openssl(['req', '-in', p('issued', 'cert.csr'), '-noout', '-verify']);
    assert.equal(req.status, 0, req.stderr);
    assert.match(req.stdout + req.stderr, /verify OK/i);
    // The key on disk is the certificate's key.
    assert.equal(openssl(['x509', '-in', p('issued', 'cert.crt'), '-noout', '-pubkey']).stdout, openssl(['pkey', '-in', p('issued', 'cert.key'), '-pubout']).stdout);
  });

  it('issue gives each certificate a random serial', async () => {
    const r = await runCli(['pki', 'issue', '--ca', p('ca'), '--cn', 'app.example.com', '--passphrase-file', p('pw'), '--out', p('issued'), '--name', 'second']);
    assert.equal(r.code, 0, r.stderr);
    const serial = (f: string) => openssl(['x509', '-in', f, '-noout', '-serial']).stdout.trim();
    assert.notEqual(serial(p('issued', 'cert.crt')), serial(p('issued', 'second.crt')));
    assert.match(serial(p('issued', 'second.crt')), /^serial=[0-9A-F]{32}$/);
  });

  it('issue with a wrong passphrase, or none and no terminal: a clear error, nothing written', async () => {
    const wrong = await runCli(['pki', 'issue', '--ca', p('ca'), '--cn', 'x.example.com', '--passphrase-file', p('bad-pw'), '--out', p('nope')]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /cannot decrypt the private key: wrong passphrase\?/);
    const none = await runCli(['pki', 'issue', '--ca', p('ca'), '--cn', 'x.example.com', '--out', p('nope')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no terminal to ask for the passphrase: use --passphrase-file/);
    assert.throws(() => statSync(p('nope', 'cert.key')));
  });

  it('issue --usage server: a certificate for the origin itself, with its name in subjectAltName', async () => {
    const r = await runCli(['pki', 'issue', '--ca', p('ca'), '--cn', 'origin.example.com', '--usage', 'server', '--name', 'origin', '--passphrase-file', p('pw'), '--out', p('issued')]);
    assert.equal(r.code, 0, r.stderr);
    const text = openssl(['x509', '-in', p('issued', 'origin.crt'), '-noout', '-text']).stdout;
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /DNS:origin\.example\.com/);
  });

  it('csr then sign (a CA that lives elsewhere), PEM and DER requests', async () => {
    const csr = await runCli(['pki', 'csr', '--cn', 'api.example.com', '--key-type', 'rsa2048', '--out', p('split')]);
    assert.equal(csr.code, 0, csr.stderr);
    assert.equal(mode(p('split', 'cert.key')), '600');
    assert.equal(openssl(['req', '-in', p('split', 'cert.csr'), '-noout', '-verify']).status, 0);

    const sign = await runCli(['pki', 'sign', '--ca-cert', p('ca', 'rootca.crt'), '--ca-key', p('ca', 'rootca.key'), '--csr', p('split', 'cert.csr'), '--days', '365', '--passphrase-file', p('pw')]);
    assert.equal(sign.code, 0, sign.stderr);
    assert.match(sign.stdout, /Signed the request for CN=api\.example\.com/);
    assert.equal(openssl(['verify', '-CAfile', p('ca', 'rootca.crt'), p('split', 'cert.crt')]).status, 0);
    const end = openssl(['x509', '-in', p('split', 'cert.crt'), '-noout', '-enddate']).stdout;
    const days = (Date.parse(end.replace('notAfter=', '')) - Date.now()) / 86_400_000;
    assert.ok(days > 364 && days < 366, `validity ${days} days`);

    assert.equal(openssl(['req', '-in', p('split', 'cert.csr'), '-outform', 'DER', '-out', p('split', 'der.req')]).status, 0);
    const der = await runCli(['pki', 'sign', '--ca', p('ca', 'rootca.crt'), '--csr', p('split', 'der.req'), '--passphrase-file', p('pw')]);
    assert.equal(der.code, 0, der.stderr);
    assert.equal(openssl(['verify', '-CAfile', p('ca', 'rootca.crt'), p('split', 'der.crt')]).status, 0);
  });

  it('sign refuses a request whose signature does not verify', async () => {
    const pem = readFileSync(p('split', 'cert.csr'), 'utf8');
    const body = pem.replace(/-----[^-]+-----|\s/g, '');
    const der = Buffer.from(body, 'base64');
    der[der.length - 3] ^= 0xff;
    writeFileSync(p('split', 'tampered.csr'), `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    const r = await runCli(['pki', 'sign', '--ca', p('ca'), '--csr', p('split', 'tampered.csr'), '--passphrase-file', p('pw')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /signature does not verify/);
  });

  it('init-ca --encrypt on a terminal: asks twice, echoes nothing, encrypts with what was typed', async (t) => {
    const python = findBinary('python3');
    if (!python) return t.skip('python3 not installed (used to drive a pseudo-terminal): apt-get install python3');
    // python's pty module gives the CLI a real terminal; it types the passphrase at each prompt.
    const driver = `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
def until(pat):
    global out
    end = time.time() + 20
    while pat not in out and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try: out += os.read(fd, 4096)
            except OSError: return
until(b'Enter pass phrase'); os.write(fd, b'typed secret\\r')
until(b'Verifying'); os.write(fd, b'typed secret\\r')
until(b'Next:')
sys.stdout.write(out.decode())
`;
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(python, ['-c', driver, process.execPath, CLI_ENTRY, 'pki', 'init-ca', '--cn', 'example.com', '--key-type', 'p256', '--encrypt', '--out', p('tty')]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0);
    assert.match(r.out, /Enter pass phrase for rootca\.key: \r?\n/);
    assert.doesNotMatch(r.out, /typed secret/);
    writeFileSync(p('tty-pw'), 'typed secret\n');
    assert.equal(openssl(['pkey', '-in', p('tty', 'rootca.key'), '-passin', `file:${p('tty-pw')}`, '-noout']).status, 0);
  });

  for (const sub of ['init-ca', 'issue', 'csr', 'sign']) {
    it(`pki ${sub} --help shows examples`, async () => {
      const r = await runCli(['pki', sub, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Examples:\n {2}\$ originpull pki /);
    });
  }
});
