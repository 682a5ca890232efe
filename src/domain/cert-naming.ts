// How Cloudflare names certificate facts on the wire: signature algorithms as Go's x509 constant
// names (`SHA256WithRSA`, `ECDSAWithSHA256`), serials in decimal, fingerprints
// as lower-case hex, issuers as a short display name.

const SIGNATURE_BY_OID: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'MD5WithRSA',
  '1.2.840.113549.1.1.5': 'SHA1WithRSA',
  '1.2.840.113549.1.1.14': 'SHA224WithRSA',
  '1.2.840.113549.1.1.11': 'SHA256WithRSA',
  '1.2.840.113549.1.1.12': 'SHA384WithRSA',
  '1.2.840.113549.1.1.13': 'SHA512WithRSA',
  // RSASSA-PSS carries its hash in parameters; Node does not expose them, so name the family.
  '1.2.840.113549.1.1.10': 'RSAPSS',
  '1.2.840.10045.4.1': 'ECDSAWithSHA1',
  '1.2.840.10045.4.3.1': 'ECDSAWithSHA224',
  '1.2.840.10045.4.3.2': 'ECDSAWithSHA256',
  '1.2.840.10045.4.3.3': 'ECDSAWithSHA384',
  '1.2.840.10045.4.3.4': 'ECDSAWithSHA512',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
  '1.2.840.10040.4.3': 'DSAWithSHA1',
  '2.16.840.1.101.3.4.3.2': 'DSAWithSHA256',
};

/** Cloudflare's name for a signature algorithm OID; the dotted OID itself when unknown. */
export function signatureName(oid: string): string {
  return SIGNATURE_BY_OID[oid] ?? oid;
}

/** Signatures that origins on current OpenSSL security levels refuse (worth a warning). */
export function isWeakSignature(name: string): boolean {
  return name === 'MD5WithRSA' || name === 'SHA1WithRSA' || name === 'ECDSAWithSHA1' || name === 'DSAWithSHA1';
}

/** Node prints serials as hex; Cloudflare sends decimal strings. */
export function decimalSerial(hex: string): string {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  return clean.length === 0 ? '0' : BigInt('0x' + clean).toString(10);
}

/** `AB:CD:…` → `abcd…`. */
export function hexFingerprint(colonHex: string): string {
  return colonHex.replace(/:/g, '').toLowerCase();
}

/**
 * A display name for an issuer given as Node prints distinguished names (one `KEY=value` per
 * line): the common name, else the organization, else the whole name on one line.
 */
export function issuerName(distinguishedName: string): string {
  const lines = distinguishedName.split('\n').map((l) => l.trim()).filter(Boolean);
  const value = (key: string) => {
    const line = lines.find((l) => l.startsWith(key + '='));
    return line ? line.slice(key.length + 1) : undefined;
  };
  return value('CN') ?? value('O') ?? lines.join(', ');
}
