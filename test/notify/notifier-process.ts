// Child process for notifier-nodes.test.ts: another node running a notifier on the same SQLite
// file, on the real clock, scanning every 10 ms for `durationMs`. Prints `ready` once the store is
// open, then, at the end, its totals as JSON.
// Usage: notifier-process.ts <file> <secret-key-hex> <durationMs>
import { createNotifier } from '../../src/notify/index.ts';
import { openStore, SecretBox } from '../../src/store/index.ts';
import { FAST_RETRY } from './fixtures.ts';

const [file, keyHex, durationMs] = process.argv.slice(2);
const store = await openStore(`sqlite:${file}`);
const notifier = createNotifier({ store, secretBox: new SecretBox(Buffer.from(keyHex, 'hex')), logger: false, retry: FAST_RETRY, timeoutMs: 1_000, leaseMs: 5_000 });
await notifier.scanOnce();
process.stdout.write('ready\n');
const totals = { attempted: 0, delivered: 0 };
const end = Date.now() + Number(durationMs);
while (Date.now() < end) {
  const r = await notifier.scanOnce();
  totals.attempted += r.attempted;
  totals.delivered += r.delivered;
  await new Promise((resolve) => setTimeout(resolve, 10));
}
await notifier.close();
await store.close();
process.stdout.write(JSON.stringify(totals) + '\n');
