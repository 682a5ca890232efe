// Upload a client certificate for Authenticated Origin Pulls: zone-level (POST
// /zones/{id}/origin_tls_client_auth) or per hostname (POST …/hostnames/certificates, then PUT
// …/hostnames to associate), and optionally wait until the edges report it `active`.
import type { ApiClient } from './api-client.ts';

export type AopStatus = 'initializing' | 'pending_deployment' | 'pending_deletion' | 'active' | 'deleted' | 'deployment_timed_out' | 'deletion_timed_out';

export interface UploadedCertificate {
  id: string;
  status: AopStatus;
  expires_on?: string;
  issuer?: string;
  serial_number?: string;
}

export interface Association {
  hostname: string;
  cert_id: string;
  enabled: boolean | null;
  status: AopStatus;
}

export interface UploadOptions {
  zone: string;
  certPem: string;
  keyPem: string;
  /** Per-hostname AOP for these hostnames; empty/undefined: zone-level. */
  hostnames?: string[];
  /** Zone-level: also turn zone-level AOP on (PUT …/origin_tls_client_auth/settings {enabled:true}). */
  enableZone?: boolean;
  wait?: boolean;
  /** Give up waiting after this long (default 120 s). */
  waitTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Called on each poll while waiting. */
  onProgress?: (statuses: Record<string, AopStatus>, elapsedMs: number) => void;
}

export interface UploadResult {
  zoneId: string;
  zoneName?: string;
  level: 'zone' | 'hostname';
  certificate: UploadedCertificate;
  associations: Association[];
  /** Zone-level: whether zone-level AOP is on after this upload (switched on by enableZone, or read from the zone's setting). */
  zoneEnabled?: boolean;
  /** Zone-level: true when this upload switched it on (enableZone), false when the setting was only read. */
  zoneEnabledByUpload?: boolean;
  /** After --wait: every status active; false: some ended in deployment_timed_out or the wait timed out. */
  active?: boolean;
  /** Final statuses: `certificate` and each hostname. */
  statuses: Record<string, AopStatus>;
}

export class UploadWaitError extends Error {
  readonly code = 'ERR_UPLOAD_WAIT';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function uploadCertificate(client: ApiClient, opts: UploadOptions): Promise<UploadResult> {
  const zone = await client.resolveZone(opts.zone);
  const z = encodeURIComponent(zone.id);
  const body = { certificate: opts.certPem, private_key: opts.keyPem };
  const hostnames = (opts.hostnames ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean);
  const level = hostnames.length > 0 ? 'hostname' : 'zone';

  let certificate: UploadedCertificate;
  let associations: Association[] = [];
  let zoneEnabled: boolean | undefined;
  let zoneEnabledByUpload: boolean | undefined;
  if (level === 'zone') {
    certificate = await client.request<UploadedCertificate>('POST', `/zones/${z}/origin_tls_client_auth`, body);
    const settings = `/zones/${z}/origin_tls_client_auth/settings`;
    zoneEnabledByUpload = opts.enableZone === true;
    // Without enableZone the setting is read, not assumed: it may have been switched on before.
    zoneEnabled = (await client.request<{ enabled: boolean | null }>(opts.enableZone ? 'PUT' : 'GET', settings, opts.enableZone ? { enabled: true } : undefined)).enabled === true;
  } else {
    // Per hostname there is no zone switch: associating a hostname with enabled:true is what turns
    // per-hostname AOP on for it, with or without enableZone.
    certificate = await client.request<UploadedCertificate>('POST', `/zones/${z}/origin_tls_client_auth/hostnames/certificates`, body);
    associations = await client.request<Association[]>('PUT', `/zones/${z}/origin_tls_client_auth/hostnames`, {
      config: hostnames.map((hostname) => ({ hostname, cert_id: certificate.id, enabled: true })),
    });
  }
  const statuses: Record<string, AopStatus> = { certificate: certificate.status };
  for (const a of associations) statuses[a.hostname] = a.status;
  const result: UploadResult = { zoneId: zone.id, zoneName: zone.name, level, certificate, associations, zoneEnabled, zoneEnabledByUpload, statuses };
  if (!opts.wait) return result;

  const started = Date.now();
  const deadline = started + (opts.waitTimeoutMs ?? 120_000);
  const certPath =
    level === 'zone'
      ? `/zones/${z}/origin_tls_client_auth/${encodeURIComponent(certificate.id)}`
      : `/zones/${z}/origin_tls_client_auth/hostnames/certificates/${encodeURIComponent(certificate.id)}`;
  for (;;) {
    const done = Object.values(statuses).every((s) => s === 'active');
    const failed = Object.values(statuses).some((s) => s.endsWith('timed_out'));
    opts.onProgress?.({ ...statuses }, Date.now() - started);
    if (done || failed) return { ...result, statuses, active: done };
    if (Date.now() > deadline) {
      throw new UploadWaitError(`still not active after ${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(statuses)}`);
    }
    await sleep(opts.pollIntervalMs ?? 1_000);
    statuses.certificate = (await client.request<UploadedCertificate>('GET', certPath)).status;
    for (const hostname of hostnames) {
      const a = await client.request<Association>('GET', `/zones/${z}/origin_tls_client_auth/hostnames/${encodeURIComponent(hostname)}`);
      statuses[hostname] = a.status;
    }
  }
}
