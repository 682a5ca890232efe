// `originpull edge-cert upload|list`: the certificates visitors' browsers see (Cloudflare's custom
// certificates API), in the style of `originpull upload`.
import type { Command } from 'commander';
import { isEncryptedKeyPem } from '../pki/index.ts';
import { ApiClient, ApiError } from '../origin/index.ts';
import { defaultApiUrl } from './origin.ts';
import { startProgress } from './progress.ts';
import { readText, resolveToken, waitSeconds } from './upload.ts';

/** The fields of a custom certificate the CLI shows (Cloudflare's names). */
export interface CustomCertificate {
  id: string;
  hosts: string[];
  status: string;
  priority: number;
  issuer: string;
  expires_on: string;
  bundle_method: string;
  deployment_status?: string;
  lagging_edges?: string[];
}

interface CommonOpts {
  zone: string;
  api?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

interface UploadOpts extends CommonOpts {
  cert: string;
  key: string;
  bundleMethod: string;
  wait?: boolean;
  waitTimeout: number;
}

const BUNDLE_METHODS = ['ubiquitous', 'optimal', 'force'];
const POLL_MS = 500;

function clientFor(opts: CommonOpts): ApiClient {
  return new ApiClient({ baseUrl: opts.api ?? defaultApiUrl(), token: resolveToken(opts) });
}

/** Polls until the certificate is served by every live edge, or `timeoutMs` passes. */
async function waitActive(client: ApiClient, zoneId: string, id: string, timeoutMs: number, onStatus: (status: string) => void): Promise<CustomCertificate> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cert = await client.request<CustomCertificate>('GET', `/zones/${zoneId}/custom_certificates/${id}`);
    onStatus(cert.deployment_status ?? cert.status);
    if (cert.status === 'active' || cert.deployment_status === 'deployment_timed_out' || Date.now() >= deadline) return cert;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function describeCertificate(c: CustomCertificate): string {
  const lagging = c.lagging_edges && c.lagging_edges.length > 0 ? ` (waiting for ${c.lagging_edges.join(', ')})` : '';
  return [
    `  certificate id: ${c.id}`,
    `  hosts:          ${c.hosts.join(', ')}`,
    `  status:         ${c.status}${lagging}`,
    `  issuer:         ${c.issuer}`,
    `  expires on:     ${c.expires_on}`,
    `  priority:       ${c.priority}`,
  ].join('\n');
}

async function uploadAction(opts: UploadOpts): Promise<void> {
  if (!BUNDLE_METHODS.includes(opts.bundleMethod)) throw new Error(`--bundle-method: expected one of ${BUNDLE_METHODS.join(', ')}, got "${opts.bundleMethod}"`);
  const certificate = readText(opts.cert, 'the certificate');
  const privateKey = readText(opts.key, 'the key');
  if (isEncryptedKeyPem(privateKey)) throw new Error(`${opts.key} is encrypted; the API needs the key in clear (openssl pkey -in ${opts.key} -out plain.key)`);
  const client = clientFor(opts);
  const zone = await client.resolveZone(opts.zone);
  // The POST first, on its own: a refused upload prints only why, never a wait that did not start.
  let cert = await client.request<CustomCertificate>('POST', `/zones/${zone.id}/custom_certificates`, {
    certificate,
    private_key: privateKey,
    bundle_method: opts.bundleMethod,
    type: 'sni_custom',
  });
  if (opts.wait) {
    const progress = startProgress('Waiting for every edge to serve it');
    try {
      cert = await waitActive(client, zone.id, cert.id, opts.waitTimeout * 1000, (s) => progress.update(s));
    } catch (err) {
      progress.fail(err instanceof ApiError ? err.message : undefined);
      throw err;
    }
    if (cert.status === 'active') progress.done('active');
    else progress.fail(cert.deployment_status ?? cert.status);
  }
  if (opts.json) process.stdout.write(JSON.stringify(cert, null, 2) + '\n');
  else process.stdout.write(`Uploaded an edge certificate to zone ${zone.name ?? zone.id}:\n${describeCertificate(cert)}\n`);
  if (opts.wait && cert.status !== 'active') process.exitCode = 1;
}

async function listAction(opts: CommonOpts): Promise<void> {
  const client = clientFor(opts);
  const zone = await client.resolveZone(opts.zone);
  const certs = await client.request<CustomCertificate[]>('GET', `/zones/${zone.id}/custom_certificates?per_page=50`);
  if (opts.json) {
    process.stdout.write(JSON.stringify(certs, null, 2) + '\n');
    return;
  }
  if (certs.length === 0) {
    process.stdout.write(`Zone ${zone.name ?? zone.id} has no custom edge certificates.\n`);
    return;
  }
  process.stdout.write(`Custom edge certificates of zone ${zone.name ?? zone.id} (highest priority first):\n`);
  const ordered = [...certs].sort((a, b) => b.priority - a.priority);
  process.stdout.write(ordered.map(describeCertificate).join('\n\n') + '\n');
}

function commonOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--zone <name-or-id>', 'the zone: its name (example.com) or 32-hex id')
    .option('--api <url>', 'API base URL (default: the configured API listener, http://127.0.0.1:4000)')
    .option('--token <token>', 'API token (prefer ORIGINPULL_API_TOKEN: argv is visible to other users)')
    .option('--data-dir <dir>', 'where to find admin-token when no token is given (env ORIGINPULL_DATA_DIR)')
    .option('--json', "print the API's result as JSON");
}

export function registerEdgeCertCommands(program: Command): void {
  const group = program.command('edge-cert').description('certificates the edge presents to visitors (custom uploads)');
  commonOptions(
    group
      .command('upload')
      .description('upload a certificate and key visitors are served for the names in its subjectAltName')
      .requiredOption('--cert <file>', 'the certificate (PEM, leaf first; intermediates may follow)')
      .requiredOption('--key <file>', 'its private key (PEM, not encrypted)')
      .option('--bundle-method <method>', 'ubiquitous, optimal or force (Cloudflare: how the chain is built)', 'ubiquitous')
      .option('--wait', 'wait until every edge serves it')
      .option('--wait-timeout <seconds>', 'give up waiting after this long', waitSeconds, 120),
  )
    .addHelpText(
      'after',
      `
Example:
  $ originpull edge-cert upload --zone example.com --cert fullchain.pem --key privkey.pem --wait
      POST /zones/{id}/custom_certificates, then wait until every edge serves it ("active")`,
    )
    .action(uploadAction);
  commonOptions(group.command('list').description("the zone's custom edge certificates, highest priority first")).action(listAction);
}
