// `originpull pki …`: Cloudflare's OpenSSL steps as one tool. init-ca (openssl genrsa -aes256 + req -x509),
// issue (req -new + x509 -req with cert.v3.ext), and csr / sign separately for a CA that lives elsewhere.
import { X509Certificate, createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  KEY_TYPES,
  createCa,
  createCsr,
  decryptPrivateKeyPem,
  encryptPrivateKeyPem,
  isEncryptedKeyPem,
  readCsr,
  signCsr,
  type KeyType,
  type PemPair,
} from '../pki/index.ts';
import { getPassphrase } from './prompt.ts';
import { startProgress } from './progress.ts';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive whole number, got "${value}"`);
    return n;
  };
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Writes a new file; refuses to overwrite unless `force` (keys and CAs are easy to lose). */
function writeNew(path: string, content: string, mode: number, force: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, content, { mode, flag: force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${path} already exists (use --force to overwrite)`, { cause: err });
    throw new Error(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
  chmodSync(path, mode);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The CA's certificate and key from `--ca DIR` (rootca.crt + rootca.key) or explicit files. */
function loadCa(opts: { ca?: string; caCert?: string; caKey?: string }): PemPair & { certPath: string; keyPath: string } {
  let certPath = opts.caCert;
  let keyPath = opts.caKey;
  if (opts.ca) {
    const dir = resolve(opts.ca);
    if (existsSync(dir) && statSync(dir).isDirectory()) {
      certPath ??= join(dir, 'rootca.crt');
      keyPath ??= join(dir, 'rootca.key');
    } else {
      // --ca FILE: the certificate; its key beside it as .key.
      certPath ??= dir;
      keyPath ??= dir.replace(/\.(crt|pem|cer)$/, '') + '.key';
    }
  }
  if (!certPath || !keyPath) throw new Error('the CA is needed: --ca DIR (with rootca.crt and rootca.key), or --ca-cert FILE --ca-key FILE');
  return { certPem: readText(certPath, 'CA certificate'), keyPem: readText(keyPath, 'CA key'), certPath, keyPath };
}

/** The CA with its key decrypted (asking for the passphrase when it is encrypted), before any long work. */
async function unlockCa(ca: PemPair, file: string | undefined): Promise<PemPair> {
  if (!isEncryptedKeyPem(ca.keyPem)) return ca;
  const passphrase = await getPassphrase({ file, prompt: 'Enter pass phrase for the CA key: ' });
  return { certPem: ca.certPem, keyPem: decryptPrivateKeyPem(ca.keyPem, passphrase) };
}

function describeCert(pem: string): string {
  const cert = new X509Certificate(pem);
  const fp = createHash('sha256').update(cert.raw).digest('hex').toUpperCase().match(/../g)!.join(':');
  return [
    `  subject:     ${cert.subject.replace(/\n/g, ', ')}`,
    `  issuer:      ${cert.issuer.replace(/\n/g, ', ')}`,
    `  serial:      ${cert.serialNumber}`,
    `  not after:   ${new Date(cert.validTo).toISOString()}`,
    `  SHA-256:     ${fp}`,
  ].join('\n');
}

/** Key generation with progress for RSA (4096 bits takes seconds). */
async function generating<T>(keyType: KeyType, work: () => Promise<T>): Promise<T> {
  if (!keyType.startsWith('rsa')) return work();
  const progress = startProgress(`Generating ${keyType === 'rsa4096' ? 'RSA-4096' : 'RSA-2048'} key`);
  try {
    const value = await work();
    progress.done();
    return value;
  } catch (err) {
    progress.fail((err as Error).message);
    throw err;
  }
}

const keyTypeOption = (def: KeyType) => new Option('--key-type <type>', 'key algorithm').choices([...KEY_TYPES]).default(def);

export function registerPkiCommands(program: Command): void {
  const pki = program.command('pki').description('make a CA and client certificates for Authenticated Origin Pulls (Cloudflare\'s OpenSSL steps)');

  pki
    .command('init-ca')
    .description('create a root CA: rootca.crt and rootca.key (mode 0600)')
    .requiredOption('--cn <name>', 'common name: your domain (e.g. example.com), not a hostname')
    .option('--org <name>', 'organization (O=) in the subject')
    .option('--out <dir>', 'directory for rootca.crt and rootca.key', '.')
    .addOption(keyTypeOption('rsa4096'))
    .option('--days <n>', 'validity in days', positiveInt('--days'), 1826)
    .option('--encrypt', 'encrypt the key with AES-256 under a passphrase (asked on the terminal)')
    .option('--passphrase-file <file>', 'read the passphrase from the first line of this file (implies --encrypt)')
    .option('--force', 'overwrite existing files')
    .addHelpText(
      'after',
      `
Examples:
  $ originpull pki init-ca --cn example.com --out ./ca --encrypt
      RSA-4096, 1826 days, key encrypted (like: openssl genrsa -aes256 -out rootca.key 4096;
      openssl req -x509 -new -key rootca.key -sha256 -days 1826 -out rootca.crt)
  $ originpull pki init-ca --cn example.com --key-type p256 --out ./ca
      a quick ECDSA P-256 CA, key not encrypted

The CA certificate (rootca.crt) is what you install on the origin (origin-config --ca); keep rootca.key safe.`,
    )
    .action(async (opts: { cn: string; org?: string; out: string; keyType: KeyType; days: number; encrypt?: boolean; passphraseFile?: string; force?: boolean }) => {
      const out = resolve(opts.out);
      const certPath = join(out, 'rootca.crt');
      const keyPath = join(out, 'rootca.key');
      if (!opts.force) for (const p of [certPath, keyPath]) if (existsSync(p)) throw new Error(`${p} already exists (use --force to overwrite)`);
      const encrypt = Boolean(opts.encrypt || opts.passphraseFile);
      // Ask before the long key generation, not after.
      const passphrase = encrypt ? await getPassphrase({ file: opts.passphraseFile, prompt: 'Enter pass phrase for rootca.key: ', confirm: true }) : undefined;
      const ca = await generating(opts.keyType, () => createCa({ commonName: opts.cn, organization: opts.org, keyType: opts.keyType, days: opts.days }));
      const keyPem = passphrase ? encryptPrivateKeyPem(ca.keyPem, passphrase) : ca.keyPem;
      writeNew(keyPath, keyPem, 0o600, Boolean(opts.force));
      writeNew(certPath, ca.certPem, 0o644, Boolean(opts.force));
      process.stdout.write(
        `Created CA (${opts.keyType}${passphrase ? ', key encrypted with AES-256' : ''}):\n${describeCert(ca.certPem)}\n` +
          `  certificate: ${certPath}\n  key:         ${keyPath} (mode 0600)\n\n` +
          `Next: originpull pki issue --ca ${opts.out} --cn <hostname>\n`,
      );
    });

  pki
    .command('issue')
    .description('make a key, a CSR and a client certificate signed by the CA (CA:FALSE, digitalSignature, clientAuth, SHA-256)')
    .option('--ca <dir>', 'CA directory with rootca.crt and rootca.key (or the CA certificate file, key beside it as .key)')
    .option('--ca-cert <file>', 'CA certificate file (instead of --ca)')
    .option('--ca-key <file>', 'CA key file (instead of --ca)')
    .requiredOption('--cn <name>', 'common name: the hostname (e.g. app.example.com)')
    .option('--org <name>', 'organization (O=) in the subject')
    .option('--days <n>', 'validity in days', positiveInt('--days'), 730)
    .option('--out <dir>', 'directory for the files', '.')
    .option('--name <base>', 'file names: <base>.key, <base>.csr, <base>.crt', 'cert')
    .addOption(keyTypeOption('p256'))
    .addOption(new Option('--usage <usage>', 'client (AOP) or server (an origin\'s own certificate)').choices(['client', 'server']).default('client'))
    .option('--dns <names>', 'subjectAltName DNS names, comma-separated (server certificates default to the CN)', list)
    .option('--passphrase-file <file>', 'passphrase of an encrypted CA key (otherwise asked on the terminal)')
    .option('--force', 'overwrite existing files')
    .addHelpText(
      'after',
      `
Examples:
  $ originpull pki issue --ca ./ca --cn app.example.com
      writes cert.key (0600), cert.csr and cert.crt, valid 730 days, signed by ./ca/rootca.crt
  $ originpull pki issue --ca ./ca --cn app.example.com --key-type rsa4096 --name app
      Cloudflare's RSA-4096 key, as app.key / app.csr / app.crt
  $ originpull pki issue --ca ./ca --cn origin.example.com --usage server --name origin
      a server certificate for the origin itself

Then upload the client certificate: originpull upload --zone example.com --cert cert.crt --key cert.key`,
    )
    .action(
      async (opts: {
        ca?: string;
        caCert?: string;
        caKey?: string;
        cn: string;
        org?: string;
        days: number;
        out: string;
        name: string;
        keyType: KeyType;
        usage: 'client' | 'server';
        dns?: string[];
        passphraseFile?: string;
        force?: boolean;
      }) => {
        const base = join(resolve(opts.out), opts.name);
        const paths = { key: `${base}.key`, csr: `${base}.csr`, crt: `${base}.crt` };
        if (!opts.force) for (const p of Object.values(paths)) if (existsSync(p)) throw new Error(`${p} already exists (use --force or --name)`);
        const ca = await unlockCa(loadCa(opts), opts.passphraseFile);
        const csr = await generating(opts.keyType, () => createCsr({ commonName: opts.cn, organization: opts.org, dnsNames: opts.dns, keyType: opts.keyType }));
        const certPem = await signCsr({ ca, csr: csr.csrPem, usage: opts.usage, days: opts.days });
        writeNew(paths.key, csr.keyPem, 0o600, Boolean(opts.force));
        writeNew(paths.csr, csr.csrPem, 0o644, Boolean(opts.force));
        writeNew(paths.crt, certPem, 0o644, Boolean(opts.force));
        process.stdout.write(
          `Issued ${opts.usage} certificate:\n${describeCert(certPem)}\n  key:         ${paths.key} (mode 0600)\n  request:     ${paths.csr}\n  certificate: ${paths.crt}\n`,
        );
      },
    );

  pki
    .command('csr')
    .description('make a key and a PKCS#10 certificate signing request only (for a CA that lives elsewhere)')
    .requiredOption('--cn <name>', 'common name: the hostname')
    .option('--org <name>', 'organization (O=) in the subject')
    .option('--out <dir>', 'directory for the files', '.')
    .option('--name <base>', 'file names: <base>.key and <base>.csr', 'cert')
    .addOption(keyTypeOption('p256'))
    .option('--dns <names>', 'requested subjectAltName DNS names, comma-separated', list)
    .option('--force', 'overwrite existing files')
    .addHelpText(
      'after',
      `
Examples:
  $ originpull pki csr --cn app.example.com
      writes cert.key (0600) and cert.csr (like: openssl req -new -nodes -out cert.csr -newkey rsa:4096 -keyout cert.key)
  $ originpull pki sign --ca ./ca --csr cert.csr
      on the machine that holds the CA`,
    )
    .action(async (opts: { cn: string; org?: string; out: string; name: string; keyType: KeyType; dns?: string[]; force?: boolean }) => {
      const base = join(resolve(opts.out), opts.name);
      const paths = { key: `${base}.key`, csr: `${base}.csr` };
      if (!opts.force) for (const p of Object.values(paths)) if (existsSync(p)) throw new Error(`${p} already exists (use --force or --name)`);
      const csr = await generating(opts.keyType, () => createCsr({ commonName: opts.cn, organization: opts.org, dnsNames: opts.dns, keyType: opts.keyType }));
      writeNew(paths.key, csr.keyPem, 0o600, Boolean(opts.force));
      writeNew(paths.csr, csr.csrPem, 0o644, Boolean(opts.force));
      process.stdout.write(`Created key ${paths.key} (mode 0600) and request ${paths.csr} for CN=${opts.cn}\n`);
    });

  pki
    .command('sign')
    .description('sign a CSR with the CA: Cloudflare\'s "openssl x509 -req … -extfile cert.v3.ext"')
    .option('--ca <dir>', 'CA directory with rootca.crt and rootca.key (or the CA certificate file, key beside it as .key)')
    .option('--ca-cert <file>', 'CA certificate file (instead of --ca)')
    .option('--ca-key <file>', 'CA key file (instead of --ca)')
    .requiredOption('--csr <file>', 'the PKCS#10 request (PEM or DER)')
    .option('--days <n>', 'validity in days', positiveInt('--days'), 730)
    .option('--out <file>', 'certificate file (default: the CSR\'s name with .crt)')
    .addOption(new Option('--usage <usage>', 'client (AOP) or server').choices(['client', 'server']).default('client'))
    .option('--passphrase-file <file>', 'passphrase of an encrypted CA key (otherwise asked on the terminal)')
    .option('--force', 'overwrite an existing certificate file')
    .addHelpText(
      'after',
      `
Examples:
  $ originpull pki sign --ca ./ca --csr cert.csr
      writes cert.crt: CA:FALSE, keyUsage digitalSignature, extendedKeyUsage clientAuth, SHA-256, random serial
  $ originpull pki sign --ca-cert corp-ca.pem --ca-key corp-ca.key --csr app.csr --days 365 --out app.crt`,
    )
    .action(async (opts: { ca?: string; caCert?: string; caKey?: string; csr: string; days: number; out?: string; usage: 'client' | 'server'; passphraseFile?: string; force?: boolean }) => {
      const csrPath = resolve(opts.csr);
      let csrInput: string | Uint8Array;
      try {
        const raw = readFileSync(csrPath);
        csrInput = raw.includes('-----BEGIN') ? raw.toString('utf8') : new Uint8Array(raw);
      } catch (err) {
        throw new Error(`cannot read the CSR ${csrPath}: ${(err as Error).message}`, { cause: err });
      }
      const info = await readCsr(csrInput);
      const ca = await unlockCa(loadCa(opts), opts.passphraseFile);
      const certPem = await signCsr({ ca, csr: csrInput, usage: opts.usage, days: opts.days });
      const out = resolve(opts.out ?? join(dirname(csrPath), basename(csrPath).replace(/\.(csr|req|pem|der)$/, '') + '.crt'));
      writeNew(out, certPem, 0o644, Boolean(opts.force));
      process.stdout.write(`Signed the request for ${info.subject}:\n${describeCert(certPem)}\n  certificate: ${out}\n`);
    });
}
