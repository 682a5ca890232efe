// Visitor TLS session tickets across two `originpull edge` nodes on one PostgreSQL: a ticket one
// edge issued resumes on the other (the key comes from the store through the snapshot, not from a
// process); after a rotation the previous key is still accepted, and after a second rotation it is
// not (full handshake). Checked with `openssl s_client -sess_out/-sess_in`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, SecretBox, type Store } from '../../src/store/index.ts';
import { parseTicketKeyRing, rotateTicketKeyRing, TICKET_KEY_BYTES } from '../../src/domain/index.ts';
import { sClient } from '../helpers/s-client.ts';
import { eventually, newSecretKey, newToken, probePostgres, startApi, startEdge, TestSchema, type EdgeProcess, type NodeProcess } from './harness.ts';

const unreachable = await probePostgres();
const schema = new TestSchema();
const secretKey = newSecretKey();
const dirs: string[] = [];
const edges: EdgeProcess[] = [];
let apiNode: NodeProcess | undefined;
let store: Store | undefined;
const box = SecretBox.fromString(secretKey);

async function allApplied(): Promise<void> {
  const version = await store!.currentVersion();
  await eventually('both edges apply the latest version', () => Promise.all(edges.map((e) => e.health())), (hs) => hs.every((h) => h.appliedVersion >= version), 30_000, 100);
}

/** What an API node's rotator does when due, done now. */
async function rotate(): Promise<void> {
  const pki = (await store!.getPki())!;
  const ring = parseTicketKeyRing(box.open(pki.ticketKeysSealed!));
  const next = rotateTicketKeyRing(ring, () => randomBytes(TICKET_KEY_BYTES), ring.rotateEveryMs);
  assert.equal(await store!.rotateTicketKeys(pki.ticketKeysRotatedOn ?? null, box.seal(JSON.stringify(next)), Date.now()), true);
  await allApplied();
}

before(async () => {
  if (unreachable) return;
  ({ node: apiNode } = await startApi('api', { store: schema.url(), secretKey, token: newToken() }));
  store = await openStore(schema.url());
  await eventually('the API node makes the first ticket key ring', () => store!.getPki(), (p) => typeof p?.ticketKeysSealed === 'string', 30_000, 100);
  const started = await Promise.all(
    ['edge-a', 'edge-b'].map((name) => {
      const dataDir = mkdtempSync(join(tmpdir(), `originpull-tickets-${name}-`));
      dirs.push(dataDir);
      return startEdge(name, { store: schema.url(), secretKey, dataDir });
    }),
  );
  edges.push(...started);
  await allApplied();
});

after(async () => {
  await Promise.all(edges.map((e) => e.stop()));
  await apiNode?.stop();
  await store?.close();
  if (!unreachable) await schema.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a ticket from one edge node resumes on the other, survives one rotation, not two', { skip: unreachable ?? false }, async () => {
  const [a, b] = edges as [EdgeProcess, EdgeProcess];
  const dir = mkdtempSync(join(tmpdir(), 'originpull-tickets-sess-'));
  dirs.push(dir);
  for (const extra of [[], ['-tls1_2']]) {
    const label = extra.length === 0 ? 'TLS 1.3' : 'TLS 1.2';
    const first = join(dir, `first-${extra.length}`);
    assert.equal((await sClient(a.ports.https, { sessOut: first, extra })).handshake, 'New', label);
    for (const edge of [b, a, b]) assert.equal((await sClient(edge.ports.https, { sessIn: first, extra })).handshake, 'Reused', `${label}: ticket from edge-a offered to ${edge.ports.https}`);
  }

  const before = join(dir, 'before');
  assert.equal((await sClient(b.ports.https, { sessOut: before })).handshake, 'New');
  await rotate();
  // Sealed with what is now the previous key: still accepted by both nodes.
  for (const edge of [a, b]) assert.equal((await sClient(edge.ports.https, { sessIn: before })).handshake, 'Reused', 'previous key accepted after one rotation');
  const after1 = join(dir, 'after1');
  assert.equal((await sClient(a.ports.https, { sessOut: after1 })).handshake, 'New');
  assert.equal((await sClient(b.ports.https, { sessIn: after1 })).handshake, 'Reused', 'the new current key is shared too');

  await rotate();
  // Two rotations later its key has left the ring: a full handshake, the visitor served all the same.
  for (const edge of [a, b]) {
    const r = await sClient(edge.ports.https, { sessIn: before });
    assert.equal(r.handshake, 'New', 'a key two rotations old is no longer accepted');
    assert.match(r.output, /HTTP\/1\.1 404/, 'the full handshake still serves the request');
  }
  for (const edge of [a, b]) assert.equal((await sClient(edge.ports.https, { sessIn: after1 })).handshake, 'Reused', 'the key one rotation old is');
});
