// What tells one uploaded certificate from another: its subject and DNS names, read in the browser
// from the PEM the API returns (the list gives only issuer and id, alike for every leaf of one CA).
import { readCertificatePem } from './pem/certificate.ts';

export interface CertNames {
  subject: string;
  /** The subject's CN, or the whole subject when it has none. */
  commonName: string;
  dnsNames: string[];
}

const cache = new Map<string, CertNames>();

export function certNames(cert: { id: string; certificate: string }): CertNames {
  const known = cache.get(cert.id);
  if (known) return known;
  let names: CertNames;
  try {
    const summary = readCertificatePem(cert.certificate);
    const cn = /(?:^|, )CN=([^,]*)/.exec(summary.subject)?.[1];
    names = { subject: summary.subject, commonName: cn ?? summary.subject, dnsNames: summary.dnsNames };
  } catch {
    names = { subject: '', commonName: '', dnsNames: [] };
  }
  cache.set(cert.id, names);
  return names;
}
