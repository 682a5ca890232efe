// Store + secret box for an edge node. Unlike an API node an edge never migrates, and it waits
// for an unreachable store instead of exiting; only a secret-key mismatch is fatal. With a last
// known configuration on disk it does not wait at all: it serves that copy and checks the key
// once the store answers (static stability).
// Tested in test/scale/store-loss.test.ts.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { openStore, SecretBox, SecretKeyMismatchError, verifySecretKey, type EdgeNodeStore } from '../store/index.ts';
import type { LastKnownConfig } from './edge-node.ts';

export interface EdgeStore {
  store: EdgeNodeStore;
  secretBox: SecretBox;
  /** False when the store was unreachable and the node is to start from its last known configuration. */
  secretKeyVerified: boolean;
}

export interface OpenEdgeStoreOptions {
  /** Stops the wait for the store (the open then fails). */
  signal?: AbortSignal;
  /** When it holds a copy, an unreachable store does not hold the start. */
  lastKnown?: LastKnownConfig;
}

export async function openEdgeStore(config: Readonly<Config>, logger: Logger, opts: OpenEdgeStoreOptions = {}): Promise<EdgeStore> {
  const secretBox = await SecretBox.load(join(config.dataDir, 'secret.key'), config.secretKey);
  const store = await openStore(config.store, { timeouts: { queryMs: config.timeouts.storeQueryMs, statementMs: config.timeouts.storeStatementMs } });
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      // Only an API node creates the installation (and records its key's check value, before the
      // PKI): an edge with a stray key must not be the first to record one.
      if ((await store.getPki()) === null) throw new Error('the installation is not initialized yet: start an API node (originpull api) first');
      await verifySecretKey(store, secretBox);
      return { store, secretBox, secretKeyVerified: true };
    } catch (err) {
      if (err instanceof SecretKeyMismatchError || opts.signal?.aborted) {
        await store.close().catch(() => {});
        throw err;
      }
      if (attempt === 1 && opts.lastKnown && (await opts.lastKnown.load().catch(() => null)) !== null) {
        logger.warn({ err, store: store.kind }, 'store unreachable at start: starting from the last known configuration');
        return { store, secretBox, secretKeyVerified: false };
      }
      if (attempt === 1 || attempt % 20 === 0) logger.warn({ err, store: store.kind }, 'waiting for the store');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(5_000, delay * 2);
    }
  }
}
