// `originpull upload`: send a client certificate to the API, zone-level or for hostnames, and
// optionally wait until every edge reports it active.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { isEncryptedKeyPem } from '../pki/index.ts';
import { ApiClient, UploadWaitError, checkClientCertificate, uploadCertificate, type UploadResult } from '../origin/index.ts';
import { defaultApiUrl } from './origin.ts';
import { startProgress, type Progress } from './progress.ts';

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** --token, else ORIGINPULL_API_TOKEN, else <data-dir>/admin-token. */
export function resolveToken(opts: { token?: string; dataDir?: string }): string {
  if (opts.token) return opts.token;
  const config = loadConfig({ flags: { dataDir: opts.dataDir } });
  if (config.apiToken) return config.apiToken;
  const file = join(config.dataDir, 'admin-token');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  } catch {
    // fall through to the message
  }
  throw new Error(`no API token: use --token, ORIGINPULL_API_TOKEN, or run where ${file} exists (--data-dir)`);
}

interface UploadOpts {
  zone: string;
  cert: string;
  key: string;
  hostname?: string[];
  enable?: boolean;
  wait?: boolean;
  waitTimeout: number;
  api?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

function summary(r: UploadResult): string {
  const lines = [
    `Uploaded ${r.level === 'zone' ? 'a zone-level' : 'a per-hostname'} client certificate to zone ${r.zoneName ?? r.zoneId}${r.zoneName ? ` (${r.zoneId})` : ''}:`,
    `  certificate id: ${r.certificate.id}`,
    `  status:         ${r.statuses.certificate}`,
  ];
  if (r.certificate.expires_on) lines.push(`  expires on:     ${r.certificate.expires_on}`);
  for (const a of r.associations) lines.push(`  hostname ${a.hostname}: ${r.statuses[a.hostname] ?? a.status}`);
  if (r.level === 'zone') {
    lines.push(
      r.zoneEnabled
        ? r.zoneEnabledByUpload
          ? '  zone-level AOP: enabled'
          : '  zone-level AOP: enabled (it was on already)'
        : '\nZone-level AOP is off for this zone: add --enable, or PUT /zones/{id}/origin_tls_client_auth/settings {"enabled":true}.',
    );
  } else {
    const off = r.associations.filter((a) => a.enabled !== true).map((a) => a.hostname);
    const on = r.associations.filter((a) => a.enabled === true).map((a) => a.hostname);
    if (on.length > 0) lines.push(`  per-hostname AOP: enabled for ${on.join(', ')}`);
    if (off.length > 0) lines.push(`\nPer-hostname AOP is not enabled for ${off.join(', ')}: the API answered the association without enabled:true.`);
  }
  return lines.join('\n') + '\n';
}

async function uploadAction(opts: UploadOpts): Promise<void> {
  const certPem = readText(opts.cert, 'the certificate');
  const keyPem = readText(opts.key, 'the key');
  if (isEncryptedKeyPem(keyPem)) throw new Error(`${opts.key} is encrypted; the API needs the key in clear (openssl pkey -in ${opts.key} -out plain.key)`);
  // Check locally first: a mismatched key or an expired certificate is better said before the upload.
  const { warnings } = checkClientCertificate(certPem, keyPem);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const client = new ApiClient({ baseUrl: opts.api ?? defaultApiUrl(), token: resolveToken(opts) });
  const hostnames = (opts.hostname ?? []).flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean);
  // Started at the first poll, once the upload itself went through: a refused POST prints only its error.
  let progress: Progress | undefined;
  let result: UploadResult;
  try {
    result = await uploadCertificate(client, {
      zone: opts.zone,
      certPem,
      keyPem,
      hostnames,
      enableZone: opts.enable,
      wait: opts.wait,
      waitTimeoutMs: opts.waitTimeout * 1000,
      onProgress: (statuses) => {
        progress ??= startProgress('Waiting for active');
        progress.update(
          Object.entries(statuses)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        );
      },
    });
  } catch (err) {
    progress?.fail(err instanceof UploadWaitError ? err.message : undefined);
    throw err;
  }
  if (progress) {
    if (result.active) progress.done('active');
    else progress.fail(Object.entries(result.statuses).map(([k, v]) => `${k} ${v}`).join(', '));
  }
  if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(summary(result));
  if (opts.wait && !result.active) process.exitCode = 1;
}

/** Parses `--wait-timeout`: a positive number of seconds. */
export function waitSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--wait-timeout: expected seconds, got "${v}"`);
  return n;
}

export function registerUploadCommand(program: Command): void {
  program
    .command('upload')
    .description('upload a client certificate for Authenticated Origin Pulls (zone-level, or per hostname with --hostname)')
    .requiredOption('--zone <name-or-id>', 'the zone: its name (example.com) or 32-hex id')
    .requiredOption('--cert <file>', 'client certificate (PEM, a leaf; intermediates may follow)')
    .requiredOption('--key <file>', 'its private key (PEM, not encrypted)')
    .option('--hostname <names...>', 'per-hostname AOP for these hostnames (comma-separated or repeated)')
    .option('--enable', 'switch AOP on: zone-level AOP for the zone; with --hostname the hostnames are associated enabled (as they always are)')
    .option('--wait', 'wait until the certificate (and each hostname) is active on every edge')
    .option('--wait-timeout <seconds>', 'give up waiting after this long', waitSeconds, 120)
    .option('--api <url>', 'API base URL (default: the configured API listener, http://127.0.0.1:4000)')
    .option('--token <token>', 'API token (prefer ORIGINPULL_API_TOKEN: argv is visible to other users)')
    .option('--data-dir <dir>', 'where to find admin-token when no token is given (env ORIGINPULL_DATA_DIR)')
    .option('--json', 'print the API\'s result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ originpull upload --zone example.com --cert cert.crt --key cert.key --enable --wait
      zone-level: POST /zones/{id}/origin_tls_client_auth, PUT …/settings {"enabled":true}, then wait for "active"
  $ originpull upload --zone example.com --cert app.crt --key app.key --hostname app.example.com,api.example.com
      per hostname: POST …/hostnames/certificates, then PUT …/hostnames with enabled:true

The token comes from --token, ORIGINPULL_API_TOKEN, or <data-dir>/admin-token.`,
    )
    .action(uploadAction);
}
