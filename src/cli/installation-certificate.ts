// The installation's global client certificate and its key (what the edge presents under
// `tls_client_auth: on`), read from the store with the secret key, for `verify-origin --global`.
// Nothing is created: a data dir or store without an installation is an error.
// Tested in test/cli/verify-origin-nginx.test.ts (`--global`).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { openStore, SecretBox } from '../store/index.ts';

export class NoInstallationError extends Error {}

export async function installationClientCertificate(config: Readonly<Config>): Promise<{ certPem: string; keyPem: string }> {
  let secret = config.secretKey;
  if (!secret) {
    const file = join(config.dataDir, 'secret.key');
    try {
      secret = readFileSync(file, 'utf8');
    } catch (err) {
      throw new NoInstallationError(`--global needs the installation's secret key: cannot read ${file} (${(err as NodeJS.ErrnoException).code}); give --data-dir or ORIGINPULL_SECRET_KEY`, { cause: err });
    }
  }
  const secretBox = SecretBox.fromString(secret);
  if (config.store.startsWith('sqlite:') && !existsSync(config.store.slice('sqlite:'.length))) {
    throw new NoInstallationError(`--global: no store at ${config.store.slice('sqlite:'.length)}; give --data-dir or --store of the installation`);
  }
  const store = await openStore(config.store);
  try {
    const pki = await store.getPki().catch(() => null);
    if (pki === null) throw new NoInstallationError(`--global: the store ${config.store} holds no installation yet (start \`originpull serve\` or \`api\` once)`);
    return { certPem: pki.globalCertPem, keyPem: secretBox.open(pki.globalKeySealed) };
  } finally {
    await store.close();
  }
}
