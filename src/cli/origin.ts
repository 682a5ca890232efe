// `originpull origin-config` (print the origin server's configuration for a phase) and
// `originpull verify-origin` (prove from outside that an origin enforces client certificates).
// Tested in test/cli/origin-config.test.ts, verify-origin.test.ts and verify-origin-nginx.test.ts.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../config.ts';
import {
  HAPROXY_LOG_FILE_REFUSAL,
  ORIGIN_SERVERS,
  PHASES,
  VerifyOriginInputError,
  fetchOriginPullCa,
  renderOriginConfig,
  verifyOrigin,
  type OriginServer,
  type Phase,
  type TraefikFormat,
  type VerifyOriginResult,
} from '../origin/index.ts';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The API URL from --api, else the configured API listener. */
export function defaultApiUrl(): string {
  const { host, port } = loadConfig({}).apiListen;
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

interface OriginConfigOpts {
  server: OriginServer;
  phase: Phase;
  ca?: string;
  global?: boolean;
  api?: string;
  saveCa: string;
  cert?: string;
  key?: string;
  host?: string;
  listen?: string;
  upstream?: string;
  logFile?: string;
  format: TraefikFormat;
  output?: string;
}

async function originConfigAction(opts: OriginConfigOpts): Promise<void> {
  // Before anything is fetched or saved.
  if (opts.server === 'haproxy' && opts.logFile !== undefined) throw new Error(HAPROXY_LOG_FILE_REFUSAL);
  if (Boolean(opts.ca) === Boolean(opts.global)) throw new Error('give either --ca FILE (your own CA) or --global (the installation\'s origin-pull CA)');
  let caFile: string;
  let caSource: string;
  if (opts.global) {
    const api = opts.api ?? defaultApiUrl();
    const pem = await fetchOriginPullCa(api);
    caFile = resolve(opts.saveCa);
    writeFileSync(caFile, pem, { mode: 0o644 });
    caSource = `the installation's origin-pull CA from ${api}, saved to ${caFile}`;
    process.stderr.write(`Saved the installation's origin-pull CA to ${caFile}; install it on the origin at the path the configuration names.\n`);
  } else {
    caFile = resolve(opts.ca!);
    const pem = readText(caFile, 'the CA file');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch (err) {
      throw new Error(`--ca ${caFile}: not a PEM certificate`, { cause: err });
    }
    if (!cert.ca) process.stderr.write(`warning: ${caFile} is not a CA certificate (CA:FALSE); the origin needs the CA that signed the client certificate\n`);
    caSource = `your CA ${cert.subject.replace(/\n/g, ', ')}, ${caFile}`;
  }
  const text = renderOriginConfig({
    server: opts.server,
    phase: opts.phase,
    caFile,
    caSource,
    certFile: opts.cert ? resolve(opts.cert) : undefined,
    keyFile: opts.key ? resolve(opts.key) : undefined,
    serverName: opts.host,
    listen: opts.listen,
    upstream: opts.upstream,
    logFile: opts.logFile,
    format: opts.format,
  });
  if (opts.output) {
    writeFileSync(resolve(opts.output), text);
    process.stderr.write(`Wrote ${resolve(opts.output)}\n`);
  } else process.stdout.write(text);
}

const MARK: Record<string, string> = { pass: 'ok', fail: 'FAIL', skip: 'skip', warn: 'warn' };

/** The human-readable report: a short table, warnings, and the verdict. */
export function formatVerifyResult(r: VerifyOriginResult): string {
  const rows = r.checks.map((c) => [c.title, MARK[c.status], c.detail]);
  const w0 = Math.max(5, ...rows.map((x) => x[0].length));
  const w1 = Math.max(6, ...rows.map((x) => x[1].length));
  const line = (cols: string[]) => `  ${cols[0].padEnd(w0)}  ${cols[1].padEnd(w1)}  ${cols[2]}`;
  const out = [
    `verify-origin ${r.origin.host.includes(':') ? `[${r.origin.host}]` : r.origin.host}:${r.origin.port}, Host ${r.hostname}`,
    line(['CHECK', 'RESULT', 'DETAIL']),
    ...rows.map(line),
    ...r.warnings.map((w) => `warning: ${w}`),
    `${r.verdict === 'enforced' ? 'ENFORCED' : r.verdict === 'not-enforced' ? 'NOT ENFORCED' : 'UNREACHABLE'}: ${r.summary}`,
  ];
  return out.join('\n') + '\n';
}

interface VerifyOpts {
  origin: string;
  host: string;
  cert?: string;
  key?: string;
  global?: boolean;
  dataDir?: string;
  store?: string;
  ca?: string;
  json?: boolean;
  timeout: number;
}

/** The client certificate to check acceptance with: --cert/--key, or the installation's for --global. */
async function clientCertificate(opts: VerifyOpts): Promise<{ cert?: string; key?: string }> {
  if (!opts.global) {
    return {
      cert: opts.cert ? readText(resolve(opts.cert), 'the client certificate') : undefined,
      key: opts.key ? readText(resolve(opts.key), 'the client key') : undefined,
    };
  }
  if (opts.cert || opts.key) throw new VerifyOriginInputError('give either --global (the installation\'s certificate) or --cert/--key, not both');
  const { installationClientCertificate } = await import('./installation-certificate.ts');
  const config = loadConfig({ flags: { dataDir: opts.dataDir, store: opts.store } });
  try {
    const { certPem, keyPem } = await installationClientCertificate(config);
    return { cert: certPem, key: keyPem };
  } catch (err) {
    throw new VerifyOriginInputError((err as Error).message, { cause: err });
  }
}

async function verifyOriginAction(opts: VerifyOpts): Promise<void> {
  let result: VerifyOriginResult;
  try {
    result = await verifyOrigin({
      origin: opts.origin,
      hostname: opts.host,
      ...(await clientCertificate(opts)),
      ca: opts.ca ? readText(resolve(opts.ca), 'the CA file') : undefined,
      timeoutMs: opts.timeout,
    });
  } catch (err) {
    if (!(err instanceof VerifyOriginInputError) && !/^cannot read/.test((err as Error).message)) throw err;
    if (opts.json) process.stdout.write(JSON.stringify({ verdict: 'error', exitCode: 2, summary: (err as Error).message }, null, 2) + '\n');
    else process.stderr.write(`originpull verify-origin: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    // Warnings (an expired certificate…) first, on stderr, before the table.
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(formatVerifyResult({ ...result, warnings: [] }));
  }
  process.exitCode = result.exitCode;
}

export function registerOriginCommands(program: Command): void {
  program
    .command('origin-config')
    .description('print the configuration that makes an origin server accept (log phase) or require (enforce phase) the edge\'s client certificate')
    .addOption(new Option('--server <server>', 'origin server').choices([...ORIGIN_SERVERS]).makeOptionMandatory())
    .addOption(new Option('--phase <phase>', 'log: accept and log, enforce: require').choices([...PHASES]).makeOptionMandatory())
    .option('--ca <file>', 'your CA certificate (PEM) that signs the client certificates you upload')
    .option('--global', 'use the installation\'s origin-pull CA (global AOP), fetched from the API')
    .option('--api <url>', 'API base URL for --global (default: the configured API listener, http://127.0.0.1:4000)')
    .option('--save-ca <file>', 'where --global saves the CA certificate', 'originpull-origin-pull-ca.pem')
    .option('--cert <file>', 'the origin\'s own server certificate')
    .option('--key <file>', 'the origin\'s own server key')
    .option('--host <name>', 'hostname the origin serves (server_name, ServerName, site address)')
    .option('--listen <port>', 'PORT or HOST:PORT the origin listens on for TLS (default 443)')
    .option('--upstream <url>', 'the application behind the origin server, e.g. http://127.0.0.1:8080')
    .option('--log-file <file>', 'access log with the verification result (not HAProxy: it logs to its global syslog target)')
    .addOption(new Option('--format <format>', 'Traefik only: dynamic configuration format').choices(['yaml', 'toml']).default('yaml'))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ originpull origin-config --server nginx --ca ./ca/rootca.crt --phase log --host app.example.com \\
      --cert /etc/nginx/certs/origin.crt --key /etc/nginx/certs/origin.key --upstream http://127.0.0.1:8080
      ssl_verify_client optional + a log_format with $ssl_client_verify: watch the log first
  $ originpull origin-config --server nginx --ca ./ca/rootca.crt --phase enforce --host app.example.com
      ssl_verify_client on: requests without the edge's certificate get 400
  $ originpull origin-config --server apache --global --phase enforce
      Apache with the installation's origin-pull CA (global AOP), SSLVerifyClient require
  $ originpull origin-config --server traefik --ca rootca.crt --phase log --format toml

Servers: nginx, apache (mod_ssl), haproxy, caddy, traefik (file provider).`,
    )
    .action(originConfigAction);

  program
    .command('verify-origin')
    .description('connect straight to an origin and check that it refuses requests without a valid client certificate')
    // Usage errors (a missing or unknown flag, a bad value) are bad input, exit 2: exit 1 means
    // "the origin does not enforce", which a script must be able to trust.
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    })
    .requiredOption('--origin <ip[:port]>', 'the origin\'s address, port 443 by default')
    .requiredOption('--host <name>', 'the proxied hostname: sent as SNI and Host')
    .option('--cert <file>', 'a client certificate the origin should accept (the one you uploaded)')
    .option('--key <file>', 'its private key')
    .option('--global', 'global AOP: check acceptance with the installation\'s own client certificate (read from the store, needs the secret key)')
    .option('--data-dir <dir>', 'with --global: the installation\'s data dir (env ORIGINPULL_DATA_DIR; default ./data)')
    .option('--store <url>', 'with --global: its store, if not the SQLite file in the data dir (env ORIGINPULL_STORE)')
    .option('--ca <file>', 'CA to check the origin\'s own certificate against (as the edge does in Full (strict))')
    .option('--json', 'print the result as JSON')
    .option(
      '--timeout <ms>',
      'per-request timeout',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected milliseconds, got "${v}"`);
        return n;
      },
      5000,
    )
    .addHelpText(
      'after',
      `
Checks, each a direct request (GET / with SNI and Host = --host):
  TLS reachable                  something speaks TLS at --origin
  No client certificate refused  handshake alert, reset, or an HTTP 4xx such as nginx's 400
  Foreign-CA certificate refused a certificate from a CA made on the spot
  Given certificate accepted     --cert/--key, or with --global the installation's certificate
                                 (skipped without either)
  Origin certificate valid       with --ca: the origin's own certificate chains to it, for --host

Exit status: 0 the origin enforces; 1 it does not (or refuses the given certificate);
2 it could not be checked (connection refused, timeout, plain HTTP, bad input);
3 it enforces, but its own certificate does not verify against --ca (Full (strict) would fail).

Examples:
  $ originpull verify-origin --origin 203.0.113.10 --host app.example.com --cert cert.crt --key cert.key
  $ originpull verify-origin --origin 203.0.113.10 --host app.example.com --global --data-dir /var/lib/originpull
  $ originpull verify-origin --origin 203.0.113.10:8443 --host app.example.com --json`,
    )
    .action(verifyOriginAction);
}
