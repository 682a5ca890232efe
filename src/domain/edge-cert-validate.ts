// Upload validation for custom edge certificates: the AOP upload rules (cert-validate.ts: PEM,
// chain order, key match, expiry, key types) plus what a certificate visitors' browsers see needs:
// - an RSA (2048 bits or more) or ECDSA P-256/P-384 key: browsers do not accept Ed25519 leaves;
// - if the leaf names extended key usages, serverAuth among them (a clientAuth-only certificate
//   fails every browser's handshake);
// - DNS names in subjectAltName (browsers ignore the common name), at least one of them the zone's
//   apex, a name below it or a wildcard of it. Names outside the zone are listed in `hosts` but
//   never served (a zone's certificate cannot answer for another zone's names).
// Tested in test/api/custom-certificates.test.ts and test/api/uploads.test.ts.
import { X509Certificate } from 'node:crypto';
import { validateCertificateUpload, CERT_WARNING_CODES, type CertUpload, type CertValidationFailure, type CertWarning, type ValidatedCertificate } from './cert-validate.ts';
import { belongsToZone, isValidHostname, normalizeHostname } from './hostnames.ts';

export const EDGE_CERT_ERROR_CODES = {
  noDnsNames: 1240,
  noNameInZone: 1241,
  notServerAuth: 1242,
  keyTypeForVisitors: 1243,
} as const;

export const EDGE_CERT_WARNING_CODES = {
  namesOutsideZone: 1340,
} as const;

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';

export interface ValidatedEdgeCertificate extends ValidatedCertificate {
  /** Every DNS name of the leaf's subjectAltName, lower case, in certificate order. */
  hosts: string[];
}

export type EdgeCertValidation = { ok: true; value: ValidatedEdgeCertificate } | { ok: false; error: CertValidationFailure };

/** The DNS names of a subjectAltName as Node renders it (`DNS:a.example.com, IP Address:…`). */
export function dnsNamesOf(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san === undefined) return [];
  const names: string[] = [];
  // Node quotes (JSON) a value holding a comma or other special characters.
  for (const m of san.matchAll(/(?:^|, )DNS:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const raw = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
    names.push(normalizeHostname(raw));
  }
  return names;
}

/** The names of `hosts` the edge serves the certificate for: valid DNS names of the zone. */
export function servedNames(hosts: readonly string[], zoneName: string): string[] {
  return hosts.filter((h) => isValidHostname(h, { allowWildcard: true }) && belongsToZone(h.startsWith('*.') ? h.slice(2) : h, zoneName));
}

function failure(code: number, field: 'certificate' | 'private_key', message: string): EdgeCertValidation {
  return { ok: false, error: { code, field, message } };
}

export function validateEdgeCertificateUpload(input: CertUpload, zoneName: string, now: number = Date.now()): EdgeCertValidation {
  const base = validateCertificateUpload(input, now, 'server');
  if (!base.ok) return base;
  const v = base.value;
  if (!v.keyDescription.startsWith('RSA') && !v.keyDescription.startsWith('ECDSA')) {
    return failure(
      EDGE_CERT_ERROR_CODES.keyTypeForVisitors,
      'private_key',
      `private_key is an ${v.keyDescription} key: browsers accept edge certificates with RSA (2048 bits or more) or ECDSA P-256/P-384 keys only`,
    );
  }
  const leaf = new X509Certificate(v.leafPem);
  const usages = leaf.keyUsage;
  if (usages !== undefined && usages.length > 0 && !usages.includes(SERVER_AUTH) && !usages.includes(ANY_EKU)) {
    return failure(
      EDGE_CERT_ERROR_CODES.notServerAuth,
      'certificate',
      'certificate is not for TLS servers: its extendedKeyUsage lacks serverAuth (it looks like a client certificate), so browsers would refuse it',
    );
  }
  const hosts = dnsNamesOf(leaf);
  if (hosts.length === 0) {
    return failure(
      EDGE_CERT_ERROR_CODES.noDnsNames,
      'certificate',
      'certificate has no DNS names in subjectAltName: browsers ignore the common name, so it would match no hostname',
    );
  }
  const served = servedNames(hosts, zoneName);
  if (served.length === 0) {
    return failure(
      EDGE_CERT_ERROR_CODES.noNameInZone,
      'certificate',
      `certificate covers none of the zone's names: its DNS names (${hosts.slice(0, 10).join(', ')}) are not ${zoneName}, *.${zoneName} or a name below ${zoneName}`,
    );
  }
  const warnings: CertWarning[] = v.warnings.map((w) =>
    w.code === CERT_WARNING_CODES.notYetValid ? { code: w.code, message: `certificate is not valid until ${new Date(v.notBefore).toISOString()}; browsers will refuse it before then` } : w,
  );
  const outside = hosts.filter((h) => !served.includes(h));
  if (outside.length > 0) {
    warnings.push({ code: EDGE_CERT_WARNING_CODES.namesOutsideZone, message: `not served for names outside zone ${zoneName}: ${outside.slice(0, 10).join(', ')}` });
  }
  return { ok: true, value: { ...v, hosts, warnings } };
}
