// Certificates for one bench run (P-256 throughout, like the tests): a client CA the origin trusts,
// one client certificate every proxy presents (originpull gets it uploaded as a zone certificate
// through its API), and the origin's server certificate.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueCertificate, type PemPair } from '../../src/pki/index.ts';

export const BENCH_ZONE = 'bench.test';
export const BENCH_HOST = 'app.bench.test';
/** A second zone without AOP, served by the origin port that does not ask for a client certificate. */
export const PLAIN_ZONE = 'plain.test';
export const PLAIN_HOST = 'app.plain.test';

export interface BenchPki {
  clientCa: PemPair;
  client: PemPair;
  server: PemPair;
  /** Files written into the work dir. */
  files: {
    clientCa: string;
    clientCert: string;
    clientKey: string;
    /** Certificate + key in one file (HAProxy's `crt`). */
    clientBundle: string;
    serverCert: string;
    serverKey: string;
  };
}

export async function makeBenchPki(dir: string): Promise<BenchPki> {
  const clientCa = await createCa({ commonName: 'originpull bench client CA', keyType: 'p256' });
  const serverCa = await createCa({ commonName: 'originpull bench origin CA', keyType: 'p256' });
  const client = await issueCertificate({ ca: clientCa, commonName: BENCH_ZONE, usage: 'client', keyType: 'p256' });
  const server = await issueCertificate({ ca: serverCa, commonName: BENCH_HOST, dnsNames: [BENCH_HOST, PLAIN_HOST, 'localhost'], usage: 'server', keyType: 'p256' });
  const file = (name: string, content: string, mode = 0o644) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode });
    return path;
  };
  return {
    clientCa,
    client,
    server,
    files: {
      clientCa: file('client-ca.pem', clientCa.certPem),
      clientCert: file('client.pem', client.certPem),
      clientKey: file('client.key', client.keyPem, 0o600),
      clientBundle: file('client-bundle.pem', client.certPem + client.keyPem, 0o600),
      serverCert: file('origin.pem', server.certPem),
      serverKey: file('origin.key', server.keyPem, 0o600),
    },
  };
}
