// Opening the control plane: store, migrations, secret-key check, and the first-start
// installation (default account, origin-pull CA + global certificate, edge CA, admin token).
// Tested in test/e2e/serve.test.ts (first start) and test/scale/api-nodes.test.ts (two nodes at once).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { openStore, SecretBox, verifySecretKey, type Store } from '../store/index.ts';
import { ensureAdminToken, ensureInstallationPki } from '../api/index.ts';

export interface ControlPlane {
  store: Store;
  secretBox: SecretBox;
}

/** Store + secret box, checked against each other. What every node (API or edge) needs. */
export async function openNodeStore(config: Config, { migrate }: { migrate: boolean }): Promise<ControlPlane> {
  const secretBox = await SecretBox.load(join(config.dataDir, 'secret.key'), config.secretKey);
  const store = await openStore(config.store, { timeouts: { queryMs: config.timeouts.storeQueryMs, statementMs: config.timeouts.storeStatementMs } });
  try {
    if (migrate) await store.migrate();
    await verifySecretKey(store, secretBox);
  } catch (err) {
    await store.close();
    throw err;
  }
  return { store, secretBox };
}

/** Creates what a fresh installation needs; idempotent and safe when API nodes start together. */
export async function initializeInstallation(cp: ControlPlane, config: Config, logger: Logger): Promise<void> {
  await cp.store.ensureDefaultAccount();
  await ensureInstallationPki(cp.store, cp.secretBox);
  const admin = await ensureAdminToken(cp.store, config.dataDir, config.apiToken);
  if (admin.created && admin.token) {
    // Printed once, on purpose on stderr and outside the JSON log, so it does not end up in log storage.
    process.stderr.write(
      `\noriginpull: admin API token (shown once; also saved with mode 0600 in ${join(config.dataDir, 'admin-token')}):\n  ${admin.token}\n\n`,
    );
    logger.info({ file: join(config.dataDir, 'admin-token') }, 'admin API token created');
  }
}
