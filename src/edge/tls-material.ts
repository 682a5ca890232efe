// Client certificate material for origin connections. The key is opened once by the snapshot
// builder and held in a private field (never logged, never serialized); TLS contexts are made on
// the first connection that needs them and kept for the life of the identity, so the request
// path never parses PEM.
// Tested in test/edge/upstream-pools.test.ts, aop-levels.test.ts and visitor-certificates.test.ts.
import { createSecureContext, getCACertificates, type SecureContext } from 'node:tls';
import type { AopLevel } from '../domain/index.ts';

export interface ClientIdentityInit {
  /** Certificate id, or `global` for the installation certificate. */
  certId: string;
  kind: Exclude<AopLevel, 'none'>;
  /** Leaf SHA-256, lower-case hex. */
  fingerprint: string;
  notAfter: number;
  /** Leaf first, then intermediates. */
  chainPem: string;
  keyPem: string;
}

export class ClientIdentity {
  readonly certId: string;
  readonly kind: Exclude<AopLevel, 'none'>;
  readonly fingerprint: string;
  readonly notAfter: number;
  readonly chainPem: string;
  readonly #keyPem: string;
  #fullContext: SecureContext | null = null;
  #strictContext: SecureContext | null = null;
  #strictTrust: TrustStore | null = null;

  constructor(init: ClientIdentityInit) {
    this.certId = init.certId;
    this.kind = init.kind;
    this.fingerprint = init.fingerprint;
    this.notAfter = init.notAfter;
    this.chainPem = init.chainPem;
    this.#keyPem = init.keyPem;
  }

  /** Context for `full`: our certificate, no verification of the origin. */
  fullContext(): SecureContext {
    this.#fullContext ??= createSecureContext({ cert: this.chainPem, key: this.#keyPem, minVersion: 'TLSv1.2' });
    return this.#fullContext;
  }

  /** Context for `strict`: our certificate plus the trust store the origin's chain must verify against. */
  strictContext(trust: TrustStore): SecureContext {
    if (this.#strictContext === null || this.#strictTrust !== trust) {
      this.#strictContext = createSecureContext({ cert: this.chainPem, key: this.#keyPem, ca: trust.pems as string[], minVersion: 'TLSv1.2' });
      this.#strictTrust = trust;
    }
    return this.#strictContext;
  }

  /** Parses the key, to reject an unusable one while building rather than at connect time. */
  check(): void {
    this.fullContext();
  }

  toJSON(): object {
    return { certId: this.certId, kind: this.kind, fingerprint: this.fingerprint, notAfter: this.notAfter };
  }
}

/**
 * Where a visitor certificate comes from, in the order the edge tries them: custom uploads, then
 * (once ordered) the zone's ACME certificates; the edge CA's fallback is not a table.
 */
export type VisitorCertificateSource = 'custom' | 'acme';

export interface ServerIdentityInit {
  certId: string;
  source: VisitorCertificateSource;
  fingerprint: string;
  notAfter: number;
  /** Leaf first, then the chain, served as given. */
  chainPem: string;
  keyPem: string;
}

/**
 * A certificate the edge presents to visitors. The TLS context is made here, by the snapshot
 * builder, so a handshake only looks it up; the plain key is not kept once the context holds it.
 */
export class ServerIdentity {
  readonly certId: string;
  readonly source: VisitorCertificateSource;
  readonly fingerprint: string;
  readonly notAfter: number;
  readonly context: SecureContext;

  constructor(init: ServerIdentityInit) {
    this.certId = init.certId;
    this.source = init.source;
    this.fingerprint = init.fingerprint;
    this.notAfter = init.notAfter;
    this.context = createSecureContext({ cert: init.chainPem, key: init.keyPem, minVersion: 'TLSv1.2' });
  }

  toJSON(): object {
    return { certId: this.certId, source: this.source, fingerprint: this.fingerprint, notAfter: this.notAfter };
  }
}

/** One source's certificates by the names they are served for (each name's winner only). */
export interface VisitorCertificateTable {
  readonly source: VisitorCertificateSource;
  /** By exact SAN. */
  readonly exact: ReadonlyMap<string, ServerIdentity>;
  /** By wildcard SAN (`*.example.com`). */
  readonly wildcard: ReadonlyMap<string, ServerIdentity>;
}

/** CA certificates trusted for origin certificates under `strict`: system store + an optional bundle. */
export class TrustStore {
  readonly pems: readonly string[];
  #anonymous: SecureContext | null = null;

  constructor(extraBundlePem?: string) {
    const all = new Set<string>([...getCACertificates('default'), ...getCACertificates('system')]);
    if (extraBundlePem) for (const pem of splitPemCertificates(extraBundlePem)) all.add(pem);
    this.pems = Object.freeze([...all]);
  }

  /** Context for `strict` when no client certificate is presented. */
  anonymousContext(): SecureContext {
    this.#anonymous ??= createSecureContext({ ca: this.pems as string[], minVersion: 'TLSv1.2' });
    return this.#anonymous;
  }
}

export function splitPemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => p + '\n') ?? [];
}
