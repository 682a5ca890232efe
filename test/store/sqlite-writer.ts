// Child process for sqlite.test.ts: another node on the same SQLite file.
// Usage: sqlite-writer.ts <file> migrate | <file> records <zoneId> <count> <prefix>
import { openStore } from '../../src/store/index.ts';

const [file, action, zoneId, count, prefix] = process.argv.slice(2);
const store = await openStore(`sqlite:${file}`);
await store.migrate();
if (action === 'records') {
  for (let i = 0; i < Number(count); i++) {
    await store.createDnsRecord({
      zoneId,
      name: `${prefix}${i}.example.com`,
      type: 'A',
      content: '192.0.2.1',
      proxied: true,
      ttl: 1,
      originHttpPort: 80,
      originHttpsPort: 443,
      comment: null,
    });
  }
}
await store.close();
