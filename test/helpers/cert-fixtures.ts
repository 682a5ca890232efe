// Certificates and keys for upload tests, good and bad: P-256/P-384 leaves from src/pki, and the
// odd ones (RSA PKCS#1, SEC1 with EC PARAMETERS, Ed25519, Ed448, DSA, P-521, RSA-1024, a chain
// through an intermediate) from Debian's openssl, as an uploader would make them. Built once
// per process.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate, type PemPair } from '../../src/pki/index.ts';

export interface Upload {
  certificate: string;
  privateKey: string;
}

export interface CertFixtures {
  ca: PemPair;
  /** P-256 client certificate signed by `ca`, PKCS#8 key. */
  leaf: Upload;
  /** Another P-256 client certificate signed by `ca`. */
  other: Upload;
  p384: Upload;
  /** RSA-2048 self-signed leaf, PKCS#1 ("RSA PRIVATE KEY") key. */
  rsaPkcs1: Upload;
  /** P-256 leaf whose key is SEC1 preceded by an EC PARAMETERS block (openssl ecparam -genkey). */
  ecSec1WithParams: Upload;
  ed25519: Upload;
  /** Leaf signed by an intermediate, uploaded as leaf + intermediate. */
  chained: Upload;
  intermediatePem: string;
  expired: Upload;
  notYetValid: Upload;
  rsa1024: Upload;
  dsa: Upload;
  p521: Upload;
  ed448: Upload;
  /** `leaf`'s key, PKCS#8-encrypted. */
  encryptedPkcs8: string;
  /** `rsaPkcs1`'s key, legacy PEM encryption (Proc-Type: 4,ENCRYPTED). */
  encryptedPkcs1: string;
  /** `leaf`'s public key (SPKI PEM). */
  publicKeyPem: string;
  /** An OpenSSH private key. */
  opensshKey: string;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed, CA:FALSE certificate for `keyPem` (any algorithm openssl can sign with). */
function selfSigned(dir: string, name: string, keyPem: string): Upload {
  writeFileSync(join(dir, `${name}.key`), keyPem, { mode: 0o600 });
  openssl(dir, [
    'req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}.example.com/O=originpull tests`, '-days', '30',
    '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=clientAuth', '-out', `${name}.pem`,
  ]);
  return { certificate: readFileSync(join(dir, `${name}.pem`), 'utf8'), privateKey: keyPem };
}

async function build(): Promise<CertFixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-certs-'));
  try {
    const ca = await createCa({ commonName: 'Test Client CA', organization: 'originpull tests', keyType: 'p256', days: 30 });
    const issue = async (cn: string, extra: Partial<Parameters<typeof issueCertificate>[0]> = {}): Promise<Upload> => {
      const pair = await issueCertificate({ ca, commonName: cn, usage: 'client', keyType: 'p256', days: 30, ...extra });
      return { certificate: pair.certPem, privateKey: pair.keyPem };
    };
    const now = Date.now();
    const leaf = await issue('leaf.example.com');

    const pem = (k: ReturnType<typeof generateKeyPairSync>['privateKey'], type: 'pkcs8' | 'pkcs1' = 'pkcs8') => k.export({ type, format: 'pem' }).toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaPkcs1Key = pem(rsa.privateKey, 'pkcs1');

    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-out', 'sec1.key']);
    const sec1Key = readFileSync(join(dir, 'sec1.key'), 'utf8');

    // Intermediate CA signed by `ca`, and a leaf signed by the intermediate.
    writeFileSync(join(dir, 'root.pem'), ca.certPem);
    writeFileSync(join(dir, 'root.key'), ca.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'int.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n');
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'int.key']);
    openssl(dir, ['req', '-new', '-key', 'int.key', '-subj', '/CN=Test Intermediate CA/O=originpull tests', '-out', 'int.csr']);
    openssl(dir, ['x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '30', '-extfile', 'int.ext', '-out', 'int.pem']);
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'chained.key']);
    openssl(dir, ['req', '-new', '-key', 'chained.key', '-subj', '/CN=chained.example.com', '-out', 'chained.csr']);
    openssl(dir, ['x509', '-req', '-in', 'chained.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-days', '30', '-extfile', 'leaf.ext', '-out', 'chained.pem']);
    const intermediatePem = readFileSync(join(dir, 'int.pem'), 'utf8');

    const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
    const leafKey = createPrivateKey(leaf.privateKey);

    return {
      ca,
      leaf,
      other: await issue('other.example.com'),
      p384: await issue('p384.example.com', { keyType: 'p384' }),
      rsaPkcs1: selfSigned(dir, 'rsa2048', rsaPkcs1Key),
      ecSec1WithParams: { certificate: selfSigned(dir, 'sec1', sec1Key).certificate, privateKey: sec1Key },
      ed25519: selfSigned(dir, 'ed25519', pem(generateKeyPairSync('ed25519').privateKey)),
      chained: {
        certificate: readFileSync(join(dir, 'chained.pem'), 'utf8') + intermediatePem,
        privateKey: readFileSync(join(dir, 'chained.key'), 'utf8'),
      },
      intermediatePem,
      expired: await issue('expired.example.com', { notBefore: new Date(now - 10 * 86_400_000), notAfter: new Date(now - 86_400_000) }),
      notYetValid: await issue('future.example.com', { notBefore: new Date(now + 86_400_000), notAfter: new Date(now + 30 * 86_400_000) }),
      rsa1024: selfSigned(dir, 'rsa1024', pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)),
      dsa: selfSigned(dir, 'dsa', pem(dsa.privateKey)),
      p521: selfSigned(dir, 'p521', pem(generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey)),
      ed448: selfSigned(dir, 'ed448', pem(generateKeyPairSync('ed448').privateKey)),
      encryptedPkcs8: leafKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString(),
      encryptedPkcs1: rsa.privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString(),
      publicKeyPem: createPublicKey(leafKey).export({ type: 'spki', format: 'pem' }).toString(),
      opensshKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUx\nOQAAACBzb21lLWZha2Uta2V5LWJ5dGVzLWZvci10ZXN0cw==\n-----END OPENSSH PRIVATE KEY-----\n',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let cached: Promise<CertFixtures> | undefined;

/** The fixtures, built on first call (about a second: one RSA-2048 and one DSA key). */
export function certFixtures(): Promise<CertFixtures> {
  cached ??= build();
  return cached;
}
