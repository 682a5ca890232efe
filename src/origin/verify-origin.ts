// verify-origin: does this origin enforce Authenticated Origin Pulls? Three direct requests, as the
// Cloudflare's closing curl check: no client certificate (must be refused), a certificate from a foreign CA
// made on the spot (must be refused), and the given certificate (must be accepted).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { createCa, issueCertificate } from '../pki/index.ts';
import { probe, probePlainHttp, type ProbeOutcome, type ProbeResult, type ProbeTarget } from './tls-probe.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'warn';
export type CheckId = 'tls' | 'no-cert' | 'foreign-cert' | 'given-cert' | 'origin-cert';

export interface Check {
  id: CheckId;
  title: string;
  status: CheckStatus;
  detail: string;
}

/**
 * enforced: exit 0, or 3 when the origin's own certificate does not verify against the --ca given
 * (it still enforces; the edge in Full (strict) would refuse it). not-enforced: exit 1.
 * unreachable (or unusable input): exit 2.
 */
export type Verdict = 'enforced' | 'not-enforced' | 'unreachable';

export interface VerifyOriginResult {
  origin: { host: string; port: number };
  hostname: string;
  verdict: Verdict;
  exitCode: 0 | 1 | 2 | 3;
  /** One sentence: why this verdict. */
  summary: string;
  checks: Check[];
  warnings: string[];
  probes: { noCert: ProbeResult; foreignCert?: ProbeResult; givenCert?: ProbeResult };
}

export interface VerifyOriginOptions {
  /** IP[:PORT], [IPv6]:PORT or host[:port]; port 443 by default. */
  origin: string;
  /** Host header and SNI: the proxied hostname. */
  hostname: string;
  /** PEM client certificate (with optional chain) and key expected to be accepted. */
  cert?: string;
  key?: string;
  /** PEM CA the origin's own certificate should chain to (reported as a check). */
  ca?: string;
  /** Per request; 5000 ms by default. */
  timeoutMs?: number;
  now?: number;
}

export class VerifyOriginInputError extends Error {
  readonly code = 'ERR_VERIFY_ORIGIN_INPUT';
}

export function parseOrigin(origin: string): { host: string; port: number } {
  const text = origin.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  let host: string;
  let port = 443;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(text);
    if (!m) throw new VerifyOriginInputError(`--origin: expected IP[:PORT] (e.g. 203.0.113.10 or 203.0.113.10:8443), got "${origin}"`);
    host = m[1];
    if (m[2]) port = Number(m[2]);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new VerifyOriginInputError(`--origin: port out of range in "${origin}"`);
  return { host, port };
}

/** Local checks of the given certificate before anything is sent: match, expiry, purpose. */
export function checkClientCertificate(certPem: string, keyPem: string, now = Date.now()): { warnings: string[]; subject: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new VerifyOriginInputError('--cert: not a PEM certificate', { cause: err });
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new VerifyOriginInputError(`--key: cannot read the private key (${(err as Error).message})`, { cause: err });
  }
  if (!cert.checkPrivateKey(key)) throw new VerifyOriginInputError('--key does not match --cert: the key is for another certificate');
  const warnings: string[] = [];
  const notAfter = Date.parse(cert.validTo);
  const notBefore = Date.parse(cert.validFrom);
  if (notAfter < now) warnings.push(`the client certificate expired on ${new Date(notAfter).toISOString()}: an origin that checks it will refuse it`);
  else if (notBefore > now) warnings.push(`the client certificate is not valid before ${new Date(notBefore).toISOString()}`);
  else if (notAfter - now < 14 * 86_400_000) warnings.push(`the client certificate expires soon, on ${new Date(notAfter).toISOString()}`);
  if (cert.ca) warnings.push('the client certificate is a CA certificate; upload and present a leaf certificate signed by it');
  return { warnings, subject: cert.subject.replace(/\n/g, ', ') };
}

/** How an origin said no, in words; undefined when the outcome is not a refusal. */
function refusal(outcome: ProbeOutcome, accepted?: ProbeOutcome): string | undefined {
  switch (outcome.kind) {
    case 'alert':
      return `TLS handshake alert "${outcome.alert}"${outcome.alertNumber !== undefined ? ` (${outcome.alertNumber})` : ''}`;
    case 'reset':
      return outcome.message;
    case 'http': {
      const said = `HTTP ${outcome.status}${outcome.reason ? ` "${outcome.reason}"` : ''}`;
      if (outcome.status >= 400 && /certificate|ssl/i.test(outcome.reason + outcome.bodySnippet)) return said;
      if ([401, 403, 495, 496].includes(outcome.status)) return said;
      // Some other 4xx counts when the accepted certificate gets a success on the same URL.
      if (outcome.status >= 400 && outcome.status < 500 && accepted?.kind === 'http' && accepted.status < 400) return said;
      return undefined;
    }
    case 'unreachable':
      return undefined;
  }
}

function describe(outcome: ProbeOutcome): string {
  switch (outcome.kind) {
    case 'http':
      return `HTTP ${outcome.status}${outcome.reason ? ` ${outcome.reason}` : ''}`;
    case 'alert':
      return `TLS alert "${outcome.alert}"`;
    case 'reset':
    case 'unreachable':
      return outcome.message;
  }
}

async function foreignCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const ca = await createCa({ commonName: 'originpull verify-origin foreign CA', keyType: 'p256', days: 1 });
  return issueCertificate({ ca, commonName: 'originpull verify-origin foreign client', usage: 'client', days: 1 });
}

/** Runs the checks; never throws for network conditions (only for unusable input). */
export async function verifyOrigin(opts: VerifyOriginOptions): Promise<VerifyOriginResult> {
  const origin = parseOrigin(opts.origin);
  if (!opts.hostname) throw new VerifyOriginInputError('--host is required: the hostname the edge proxies to this origin');
  if (Boolean(opts.cert) !== Boolean(opts.key)) throw new VerifyOriginInputError('--cert and --key go together');
  const warnings: string[] = [];
  if (opts.cert && opts.key) warnings.push(...checkClientCertificate(opts.cert, opts.key, opts.now).warnings);

  const base: ProbeTarget = { host: origin.host, port: origin.port, hostname: opts.hostname, timeoutMs: opts.timeoutMs ?? 5_000, ca: opts.ca };
  const checks: Check[] = [];
  const result = (verdict: Verdict, summary: string, probes: VerifyOriginResult['probes']): VerifyOriginResult => ({
    origin,
    hostname: opts.hostname,
    verdict,
    exitCode: verdict === 'enforced' ? (checks.some((c) => c.id === 'origin-cert' && c.status === 'fail') ? 3 : 0) : verdict === 'not-enforced' ? 1 : 2,
    summary,
    checks,
    warnings,
    probes,
  });

  // 1. No client certificate. It also tells whether a TLS server is there at all.
  const noCert = await probe(base);
  if (noCert.outcome.kind === 'unreachable') {
    let message = noCert.outcome.message;
    if (noCert.outcome.reason === 'not-tls') {
      const plain = await probePlainHttp(base);
      if (plain) message = `plain-HTTP origin: port ${origin.port} answered "${plain}" to an HTTP request and no TLS; AOP needs TLS (SSL mode Full or Full (strict))`;
    }
    checks.push({ id: 'tls', title: 'TLS reachable', status: 'fail', detail: message });
    return result('unreachable', message, { noCert });
  }

  // 2. and 3. A foreign CA's certificate, then the given one; independent, so in parallel.
  const foreign = await foreignCertificate();
  const [foreignCert, givenCert] = await Promise.all([
    probe({ ...base, cert: foreign.certPem, key: foreign.keyPem }),
    opts.cert && opts.key ? probe({ ...base, cert: opts.cert, key: opts.key }) : Promise.resolve(undefined),
  ]);
  const probes = { noCert, foreignCert, givenCert };

  const all = [noCert, foreignCert, givenCert].filter((p): p is ProbeResult => p !== undefined);
  const spoke = all.some((p) => p.handshake || p.outcome.kind === 'alert');
  const handshaken = all.find((p) => p.handshake);
  if (!spoke) {
    const message = `no TLS handshake with ${origin.host}:${origin.port}: ${describe(noCert.outcome)}`;
    checks.push({ id: 'tls', title: 'TLS reachable', status: 'fail', detail: message });
    return result('unreachable', message, probes);
  }
  const cert = handshaken?.serverCert;
  checks.push({
    id: 'tls',
    title: 'TLS reachable',
    status: 'pass',
    detail: handshaken
      ? `${handshaken.tlsVersion ?? 'TLS'}${cert ? `, origin certificate ${cert.subject} issued by ${cert.issuer}` : ''}`
      : 'the origin answered the TLS handshake (with an alert)',
  });

  const accepted = givenCert?.handshake && !refusal(givenCert.outcome) ? givenCert.outcome : undefined;
  const noCertRefusal = refusal(noCert.outcome, accepted);
  checks.push({
    id: 'no-cert',
    title: 'No client certificate refused',
    status: noCertRefusal ? 'pass' : 'fail',
    detail: noCertRefusal ? `refused: ${noCertRefusal}` : `accepted without a client certificate: ${describe(noCert.outcome)}`,
  });
  const foreignRefusal = refusal(foreignCert.outcome, accepted);
  checks.push({
    id: 'foreign-cert',
    title: 'Foreign-CA certificate refused',
    status: foreignRefusal ? 'pass' : 'fail',
    detail: foreignRefusal ? `refused: ${foreignRefusal}` : `accepted a certificate from an unrelated CA: ${describe(foreignCert.outcome)}`,
  });
  if (givenCert) {
    const givenRefusal = refusal(givenCert.outcome);
    checks.push({
      id: 'given-cert',
      title: 'Given certificate accepted',
      status: givenRefusal ? 'fail' : 'pass',
      detail: givenRefusal ? `refused: ${givenRefusal}` : `accepted: ${describe(givenCert.outcome)}`,
    });
  } else {
    checks.push({ id: 'given-cert', title: 'Given certificate accepted', status: 'skip', detail: 'skipped: no --cert/--key (or --global) given' });
  }
  if (opts.ca) {
    if (!cert) checks.push({ id: 'origin-cert', title: 'Origin certificate valid (--ca)', status: 'skip', detail: 'no completed handshake to inspect' });
    else {
      const problems = [cert.chainValid ? '' : `chain: ${cert.chainError}`, cert.nameValid ? '' : `name: ${cert.nameError}`].filter(Boolean);
      checks.push({
        id: 'origin-cert',
        title: 'Origin certificate valid (--ca)',
        status: problems.length === 0 ? 'pass' : 'fail',
        detail: problems.length === 0 ? `chains to the given CA and is valid for ${opts.hostname}` : problems.join('; '),
      });
    }
  }

  // Whether the origin enforces is one question; whether its own certificate verifies against the
  // CA given is another, and a wrong --ca must not read as "does not enforce".
  const failed = checks.filter((c) => c.status === 'fail' && c.id !== 'origin-cert');
  const originCert = checks.find((c) => c.id === 'origin-cert' && c.status === 'fail');
  if (failed.length === 0) {
    const enforces = `${origin.host}:${origin.port} enforces client certificates for ${opts.hostname}`;
    if (originCert === undefined) return result('enforced', enforces, probes);
    // Node's verdict on the chain also fails for a name mismatch alone (ERR_TLS_CERT_ALTNAME_INVALID).
    const chainFails = cert?.chainValid === false && cert.chainError !== 'ERR_TLS_CERT_ALTNAME_INVALID';
    const why = chainFails ? "the CA given (--ca) does not verify the origin's own certificate" : `the origin's own certificate is not valid for ${opts.hostname}`;
    return result('enforced', `${enforces}, but ${why} (${originCert.detail}): the edge in Full (strict) would answer 526`, probes);
  }
  const first = failed[0];
  const summary =
    first.id === 'no-cert'
      ? 'the origin does not enforce: it serves requests without a client certificate (still in the "log" phase?)'
      : first.id === 'foreign-cert'
        ? 'the origin does not enforce: it accepts client certificates from any CA (check the CA file it trusts)'
        : `the origin refuses the given certificate: ${first.detail.replace(/^refused: /, '')}`;
  return result('not-enforced', summary, probes);
}
