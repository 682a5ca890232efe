// Store + secret box for an edge node. Unlike an API node an edge never migrates, and it waits
// for an unreachable store instead of exiting; only a secret-key mismatch is fatal.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { openStore, SecretBox, SecretKeyMismatchError, verifySecretKey, type Store } from '../store/index.ts';

export interface EdgeStore {
  store: Store;
  secretBox: SecretBox;
}

export async function openEdgeStore(config: Readonly<Config>, logger: Logger, signal?: AbortSignal): Promise<EdgeStore> {
  const secretBox = await SecretBox.load(join(config.dataDir, 'secret.key'), config.secretKey);
  const store = await openStore(config.store);
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      await verifySecretKey(store, secretBox);
      return { store, secretBox };
    } catch (err) {
      if (err instanceof SecretKeyMismatchError || signal?.aborted) {
        await store.close().catch(() => {});
        throw err;
      }
      if (attempt === 1 || attempt % 20 === 0) logger.warn({ err, store: store.kind }, 'waiting for the store');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(5_000, delay * 2);
    }
  }
}
