// Every node of an installation must share the secret key. The first node records a check value;
// a node holding another key refuses to start instead of serving keys it cannot open.
// Tested in test/sync/static-stability.test.ts and test/sync/edge-workers.test.ts.
import type { InstallationStore } from './store.ts';
import type { SecretBox } from './secret-box.ts';

export class SecretKeyMismatchError extends Error {}

const META_KEY = 'secret_key_check';

export async function verifySecretKey(store: InstallationStore, box: SecretBox): Promise<void> {
  const stored = await store.initMeta(META_KEY, box.checkValue());
  if (!box.matchesCheckValue(stored)) {
    throw new SecretKeyMismatchError(
      'the secret key of this node differs from the one this installation was created with: ' +
        'copy <data-dir>/secret.key from the first node or set ORIGINPULL_SECRET_KEY to the same value on every node',
    );
  }
}
