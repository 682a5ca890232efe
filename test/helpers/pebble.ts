// Debian's Pebble (an RFC 8555 test CA) and pebble-challtestsrv (its DNS, resolving every name to
// 127.0.0.1), as child processes on free 127.0.0.1 ports. Debian's Pebble ships no TLS certificate
// of its own: one is made here for `localhost`, with its CA written to a file for the ACME client
// to trust. Pebble makes new roots at every start: `root()` fetches the current one from its
// management interface. Validation goes to `httpPort`/`tlsPort`: point them at the edge.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './peers.ts';
import { newCa, serverCert } from './pki.ts';

export const PEBBLE = '/usr/bin/pebble';
export const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';

export function pebbleMissing(): string | false {
  for (const bin of [PEBBLE, CHALLTESTSRV]) if (!existsSync(bin)) return `${bin} not found: apt-get install pebble`;
  return false;
}

export interface PebbleOptions {
  /** The edge's HTTP listener port (HTTP-01). */
  httpPort: number;
  /** The edge's HTTPS listener port (TLS-ALPN-01). */
  tlsPort: number;
  /** Certificate lifetime in seconds (Pebble's default is five years). */
  validitySeconds?: number;
  /** Require External Account Binding with these key ids → base64url HMAC keys. */
  eabKeys?: Record<string, string>;
}

export interface RunningPebble {
  /** `https://localhost:PORT/dir`. */
  directoryUrl: string;
  /** PEM file of the CA that signed Pebble's own TLS certificate. */
  tlsCaFile: string;
  tlsCaPem: string;
  /** Pebble's current root (the issuing chain ends there). */
  root(): Promise<string>;
  /** Answers A queries for `host` with `address` instead of 127.0.0.1. */
  addA(host: string, address: string): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

function fetchText(url: string, ca: string, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.end(body);
  });
}

function post(port: number, path: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`challtestsrv ${path}: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export async function startPebble(opts: PebbleOptions): Promise<RunningPebble> {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-pebble-'));
  const ca = await newCa('originpull test: Pebble TLS CA');
  const leaf = await serverCert(ca, ['localhost']);
  const tlsCaFile = join(dir, 'tls-ca.pem');
  writeFileSync(tlsCaFile, ca.certPem);
  writeFileSync(join(dir, 'cert.pem'), leaf.certPem);
  writeFileSync(join(dir, 'key.pem'), leaf.keyPem, { mode: 0o600 });
  const [acmePort, mgmtPort, dnsPort, challMgmtPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort: opts.httpPort,
        tlsPort: opts.tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: opts.eabKeys !== undefined,
        ...(opts.eabKeys === undefined ? {} : { externalAccountMACKeys: opts.eabKeys }),
        ...(opts.validitySeconds === undefined ? {} : { certificateValidityPeriod: opts.validitySeconds }),
      },
    }),
  );
  let out = '';
  const children: ChildProcess[] = [];
  const run = (bin: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(bin, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    children.push(child);
    return child;
  };
  run(CHALLTESTSRV, [
    '-defaultIPv4',
    '127.0.0.1',
    '-defaultIPv6',
    '',
    '-dns01',
    `127.0.0.1:${dnsPort}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-management',
    `127.0.0.1:${challMgmtPort}`,
  ]);
  // No random sleeps before validating, no rejected nonces, and no reuse of valid authorizations
  // (Pebble reuses half of them by default): every order is validated by the edge again.
  run(PEBBLE, ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: '0',
  });
  const directoryUrl = `https://localhost:${acmePort}/dir`;
  const stop = async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetchText(directoryUrl, ca.certPem);
      if (res.status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
      await stop();
      throw new Error(`Pebble did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    directoryUrl,
    tlsCaFile,
    tlsCaPem: ca.certPem,
    async root() {
      const res = await fetchText(`https://localhost:${mgmtPort}/roots/0`, ca.certPem);
      if (res.status !== 200) throw new Error(`Pebble roots/0: ${res.status}`);
      return res.text;
    },
    addA: (host, address) => post(challMgmtPort, '/add-a', { host, addresses: [address] }),
    output: () => out,
    stop,
  };
}
