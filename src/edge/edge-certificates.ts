// The certificate a visitor gets on HTTPS, picked by SNI: the snapshot's visitor certificate
// tables in order (custom uploads; the zone's ACME certificates will be the next table), each by
// exact name then by wildcard, one Map lookup each; else, when the fallback is on, a certificate
// issued on first use by the installation's edge CA for a proxied host name (or its wildcard),
// cached per process (one P-256 leaf key per process signs them all, so an issue costs one
// signature, not a key generation); else a TLS `unrecognized_name` alert.
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { wildcardSanFor } from '../domain/index.ts';
// The file, not ../pki/index.ts: the index loads @peculiar/x509 (megabytes of RSS in every edge
// process); leaf-der.ts builds these certificates with node:crypto alone.
// eslint-disable-next-line no-restricted-imports
import { LeafIssuer } from '../pki/leaf-der.ts';
import type { PemPair } from '../pki/index.ts';
import type { EdgeCaMaterial, Snapshot } from './snapshot.ts';
import { findRoute } from './snapshot.ts';
import type { ServerIdentity, VisitorCertificateTable } from './tls-material.ts';
import { requestedName } from './hello-policy.ts';

/** The uploaded (or ordered) certificate serving `host`: exact SAN first, then the wildcard one level up. */
export function selectVisitorCertificate(tables: readonly VisitorCertificateTable[], host: string): ServerIdentity | undefined {
  if (tables.length === 0) return undefined;
  // A wildcard covers one label, and never a bare top-level name.
  const wildcard = wildcardSanFor(host);
  for (const table of tables) {
    const exact = table.exact.get(host);
    if (exact !== undefined) return exact;
    if (wildcard !== null && table.wildcard.size !== 0) {
      const covering = table.wildcard.get(wildcard);
      if (covering !== undefined) return covering;
    }
  }
  return undefined;
}

const DAY_MS = 86_400_000;
const VALID_DAYS = 90;
/** Re-issued when less than this much validity is left. */
const RENEW_BEFORE_MS = 30 * DAY_MS;
const DEFAULT_NAME = 'originpull-edge.invalid';

export interface DefaultCertificate {
  context: SecureContext;
  certPem: string;
  keyPem: string;
}

interface LeafKey {
  publicKey: KeyObject;
  pem: string;
}

function newLeafKey(): LeafKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

interface Issued {
  context: SecureContext;
  renewAt: number;
}

export interface EdgeCertificatesOptions {
  /** How many host names keep a cached context (oldest dropped first). */
  maxCached?: number;
  /**
   * Issue edge-CA certificates for proxied names no visitor certificate covers (default true:
   * lab use, where visitors trust the edge CA). Off, such names get `unrecognized_name`.
   */
  fallback?: boolean;
  onError?: (err: Error, servername: string) => void;
}

export class EdgeCertificates {
  readonly #maxCached: number;
  readonly fallback: boolean;
  readonly #onError: (err: Error, servername: string) => void;
  #ca: PemPair | null = null;
  /** Made from #ca on first issue (reset with it): the CA's PEMs are parsed once. */
  #issuer: LeafIssuer | null = null;
  #caFingerprint = '';
  #leafKey: LeafKey | null = null;
  #issued = new Map<string, Issued>();
  #pending = new Map<string, Promise<SecureContext>>();
  #default: DefaultCertificate | null = null;
  #snapshot: Snapshot | null = null;

  constructor(opts: EdgeCertificatesOptions = {}) {
    this.#maxCached = opts.maxCached ?? 20_000;
    this.fallback = opts.fallback ?? true;
    this.#onError = opts.onError ?? (() => {});
  }

  /** Follows the snapshot: the CA may change (then every cached certificate is dropped). */
  setSnapshot(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    const ca = snapshot.edgeCa;
    if (ca !== null && ca.fingerprint !== this.#caFingerprint) this.#useCa(ca);
  }

  #useCa(ca: EdgeCaMaterial): void {
    this.#ca = { certPem: ca.certPem, keyPem: ca.keyPem };
    this.#issuer = null;
    this.#caFingerprint = ca.fingerprint;
    this.#issued = new Map();
    this.#pending = new Map();
    this.#default = null;
  }

  /** Makes sure a default certificate exists (for unknown or missing SNI); call before listening. */
  async ready(): Promise<DefaultCertificate> {
    if (this.#ca === null) {
      // No edge CA in the configuration (yet): serve from a throw-away CA rather than not at all.
      // Rare, so @peculiar/x509 is loaded only then (an edge with its CA never carries it).
      const { createCa } = await import('../pki/index.ts');
      const ca = await createCa({ commonName: 'originpull temporary edge CA', keyType: 'p256', days: 30 });
      // A snapshot with the real CA may have arrived meanwhile.
      if (this.#ca === null) {
        this.#ca = ca;
        this.#issuer = null;
        this.#caFingerprint = 'ephemeral';
      }
    }
    if (this.#default === null) {
      const issued = await this.#issue(DEFAULT_NAME);
      this.#default = { context: issued.context, certPem: issued.certPem, keyPem: this.#key().pem };
    }
    return this.#default;
  }

  /** 48 bytes of session-ticket keys derived from the CA key, shared by every worker of the installation. */
  ticketKeys(): Buffer | null {
    if (this.#ca === null) return null;
    return createHash('sha384').update('originpull edge session tickets\0').update(this.#ca.keyPem).digest();
  }

  /** For tls.createServer({ SNICallback }). */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    if (requestedName(servername) === null) {
      cb(null, this.#default?.context);
      return;
    }
    const host = servername.toLowerCase();
    const snapshot = this.#snapshot;
    if (snapshot !== null) {
      const visitor = selectVisitorCertificate(snapshot.visitorCertificates, host);
      if (visitor !== undefined) {
        cb(null, visitor.context);
        return;
      }
    }
    const name = this.fallback ? this.#certificateName(host) : null;
    if (name === null) {
      // The TLS gate refuses such names with an alert before this runs; a snapshot swapped in
      // between can still get here, and then the handshake fails without one.
      cb(new Error(`no certificate for ${servername}`));
      return;
    }
    const issued = this.#issued.get(name);
    if (issued !== undefined && issued.renewAt > Date.now()) {
      cb(null, issued.context);
      return;
    }
    this.contextFor(name).then(
      (ctx) => cb(null, ctx),
      (err: Error) => {
        this.#onError(err, servername);
        cb(null, this.#default?.context);
      },
    );
  };

  /** Whether a visitor asking for `host` by SNI gets a certificate (else: unrecognized_name). */
  servesName(host: string): boolean {
    const snapshot = this.#snapshot;
    if (snapshot !== null && selectVisitorCertificate(snapshot.visitorCertificates, host) !== undefined) return true;
    return this.fallback && this.#certificateName(host) !== null;
  }

  /** The name a certificate is issued for: the host itself, or its wildcard one level up. */
  #certificateName(host: string): string | null {
    const snapshot = this.#snapshot;
    if (snapshot === null || host.length === 0) return null;
    const route = findRoute(snapshot, host);
    if (route === undefined) return null;
    if (!route.wildcard) return host;
    // A wildcard certificate covers exactly one label.
    const dot = host.indexOf('.');
    return '*' + host.slice(dot) === route.name ? route.name : host;
  }

  contextFor(name: string): Promise<SecureContext> {
    let pending = this.#pending.get(name);
    if (pending === undefined) {
      pending = this.#issue(name)
        .then((issued) => issued.context)
        .finally(() => this.#pending.delete(name));
      this.#pending.set(name, pending);
    }
    return pending;
  }

  async #issue(name: string): Promise<{ context: SecureContext; certPem: string }> {
    const ca = this.#ca;
    if (ca === null) throw new Error('no edge CA available');
    const key = this.#key();
    this.#issuer ??= new LeafIssuer(ca);
    // Back-dated an hour, as certificates.ts does, for visitors with a slightly slow clock.
    const notBefore = new Date(Date.now() - 3_600_000);
    const notAfter = new Date(Date.now() + VALID_DAYS * DAY_MS);
    const certPem = this.#issuer.issueServerLeaf({ name, publicKey: key.publicKey, notBefore, notAfter });
    const context = createSecureContext({ key: key.pem, cert: certPem, minVersion: 'TLSv1.2' });
    if (this.#ca === ca && name !== DEFAULT_NAME) {
      if (this.#issued.size >= this.#maxCached) this.#issued.delete(this.#issued.keys().next().value!);
      this.#issued.set(name, { context, renewAt: notAfter.getTime() - RENEW_BEFORE_MS });
    }
    return { context, certPem };
  }

  #key(): LeafKey {
    this.#leafKey ??= newLeafKey();
    return this.#leafKey;
  }

  get defaultContext(): SecureContext | null {
    return this.#default?.context ?? null;
  }

  get cachedCount(): number {
    return this.#issued.size;
  }
}
