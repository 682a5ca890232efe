// The control plane's Prometheus metrics at `GET /metrics` on the API listener: the custom edge
// certificates of every zone with the seconds until each expires, read from the store at scrape
// time (an edge node only knows what it serves; the API knows every zone). Unlike an edge's
// metrics listener, the API listener faces users, so a scrape needs an account-wide API token
// (read permission is enough): the labels name zones and certificates. The certificates of
// certificate packs (ACME: universal and advanced) have their own series beside them, under the
// same bound.
//
// Bounded: at most `maxSeries` certificates get a series of their own, the soonest to expire
// (the ones worth an alert, so `min()` over the series is still the soonest of all); a count
// says how many are left out. A scrape reads the
// store once per `cacheMs` however often it is scraped.
import type { FastifyInstance } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { CertificatePack, EdgeCertificate, Zone } from '../domain/index.ts';
import { NotFoundError } from '../store/index.ts';

export const METRICS_PATH = '/metrics';
export const DEFAULT_MAX_CERTIFICATE_SERIES = 500;
const CACHE_MS = 5_000;

export interface MetricsOptions {
  /** Certificates with a series of their own (the soonest to expire). Default 500. */
  maxCertificateSeries?: number;
}

export interface CertificateExpiry {
  zone: string;
  certId: string;
  expiresOn: number;
  /** Certificate packs only: universal or advanced. */
  type?: string;
}

/** The `max` certificates that expire first (ties: zone, then id, so series stay put between scrapes). */
export function soonestToExpire(certs: readonly CertificateExpiry[], max: number): CertificateExpiry[] {
  return [...certs]
    .sort((a, b) => a.expiresOn - b.expiresOn || (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0) || (a.certId < b.certId ? -1 : a.certId > b.certId ? 1 : 0))
    .slice(0, Math.max(0, max));
}

function expiries(zones: readonly Zone[], certs: readonly EdgeCertificate[]): CertificateExpiry[] {
  const names = new Map(zones.map((z) => [z.id, z.name]));
  const out: CertificateExpiry[] = [];
  for (const c of certs) {
    const zone = names.get(c.zoneId);
    if (zone !== undefined && c.deleteVersion === null) out.push({ zone, certId: c.id, expiresOn: c.expiresOn });
  }
  return out;
}

/** Packs holding a certificate (not being deleted): the ones whose certificate can expire. */
function packExpiries(zones: readonly Zone[], packs: readonly CertificatePack[]): CertificateExpiry[] {
  const names = new Map(zones.map((z) => [z.id, z.name]));
  const out: CertificateExpiry[] = [];
  for (const p of packs) {
    const zone = names.get(p.zoneId);
    if (zone !== undefined && p.deleteVersion === null && p.certificate !== null) out.push({ zone, certId: p.id, expiresOn: p.certificate.expiresOn, type: p.type });
  }
  return out;
}

export function metricsRoute(app: FastifyInstance, opts: MetricsOptions = {}): void {
  const ctx = app.ctx;
  const max = opts.maxCertificateSeries ?? DEFAULT_MAX_CERTIFICATE_SERIES;
  const registry = new Registry();
  let cached: { at: number; list: CertificateExpiry[]; packs: CertificateExpiry[] } | null = null;

  async function read(): Promise<{ list: CertificateExpiry[]; packs: CertificateExpiry[] }> {
    const now = ctx.now();
    if (cached && now - cached.at < CACHE_MS && now >= cached.at) return cached;
    let list: CertificateExpiry[];
    let packs: CertificateExpiry[];
    try {
      const config = await ctx.store.loadConfig();
      list = expiries(config.zones, config.edgeCertificates);
      packs = packExpiries(config.zones, config.certificatePacks ?? []);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      list = []; // not initialised yet: nothing uploaded
      packs = [];
    }
    cached = { at: now, list, packs };
    return cached;
  }
  const current = async () => (await read()).list;
  const currentPacks = async () => (await read()).packs;

  new Gauge({
    name: 'originpull_custom_certificate_expiry_seconds',
    help: `Seconds until each custom edge certificate expires (negative: expired); the ${max} soonest to expire get a series`,
    labelNames: ['zone', 'cert_id'],
    registers: [registry],
    async collect() {
      this.reset();
      const now = ctx.now();
      for (const c of soonestToExpire(await current(), max)) this.set({ zone: c.zone, cert_id: c.certId }, Math.round((c.expiresOn - now) / 1000));
    },
  });
  new Gauge({
    name: 'originpull_custom_certificates',
    help: 'Custom edge certificates stored (not being deleted), across every zone',
    registers: [registry],
    async collect() {
      this.set((await current()).length);
    },
  });
  new Gauge({
    name: 'originpull_custom_certificates_unlisted',
    help: 'Custom edge certificates without a series of their own in originpull_custom_certificate_expiry_seconds (beyond the series limit)',
    registers: [registry],
    async collect() {
      this.set(Math.max(0, (await current()).length - max));
    },
  });
  new Gauge({
    name: 'originpull_certificate_pack_expiry_seconds',
    help: `Seconds until the certificate of each certificate pack (ACME) expires (negative: expired); the ${max} soonest to expire get a series`,
    labelNames: ['zone', 'pack_id', 'type'],
    registers: [registry],
    async collect() {
      this.reset();
      const now = ctx.now();
      for (const c of soonestToExpire(await currentPacks(), max)) this.set({ zone: c.zone, pack_id: c.certId, type: c.type ?? '' }, Math.round((c.expiresOn - now) / 1000));
    },
  });
  new Gauge({
    name: 'originpull_certificate_packs_unlisted',
    help: 'Certificate packs holding a certificate without a series of their own in originpull_certificate_pack_expiry_seconds (beyond the series limit)',
    registers: [registry],
    async collect() {
      this.set(Math.max(0, (await currentPacks()).length - max));
    },
  });
  app.get(
    METRICS_PATH,
    {
      config: { auth: 'account' },
      schema: { hide: true },
    },
    async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).header('cache-control', 'no-store').send(text);
    },
  );
}
