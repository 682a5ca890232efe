// The session-ticket rotator API nodes run, on a real SQLite store: the first round makes a ring
// of a next and a sealing key, a round before the period is up changes nothing, each later round
// puts a fresh next key in front, the old next key seals and one previous key is kept; two rotators sharing the store rotate once per period; the
// snapshot builder opens the ring into the 48-byte keys the edge applies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.ts';
import { startTicketRotator } from '../../src/sync/index.ts';
import { SnapshotBuildCache } from '../../src/sync/build-snapshot.ts';
import { parseTicketKeyRing, PREVIOUS_TICKET_KEYS, TICKET_KEY_BYTES } from '../../src/domain/index.ts';
import { newInstallation, type TestInstallation } from '../helpers/pki.ts';

const PERIOD = 60_000;
let dir: string;
let store: Store;
let other: Store;
let inst: TestInstallation;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-tickets-'));
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  await store.migrate();
  other = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  inst = await newInstallation();
  await store.initPki(inst.pki);
});

after(async () => {
  await other.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ring() {
  const pki = (await store.getPki())!;
  return { ...parseTicketKeyRing(inst.secretBox.open(pki.ticketKeysSealed!)), rotatedOn: pki.ticketKeysRotatedOn };
}

test('rotates on schedule, keeps the previous key, and racing nodes rotate once', async () => {
  let now = 1_000_000;
  const a = startTicketRotator({ store, secretBox: inst.secretBox, rotateEveryMs: PERIOD, now: () => now });
  const b = startTicketRotator({ store: other, secretBox: inst.secretBox, rotateEveryMs: PERIOD, now: () => now });
  try {
    assert.equal(await a.runOnce(), true, 'the first round makes the ring');
    const first = await ring();
    assert.equal(first.keys.length, 2, 'a next key and a sealing key');
    assert.equal(first.rotatedOn, now);
    assert.equal(first.rotateEveryMs, PERIOD);
    for (const key of first.keys) assert.equal(Buffer.from(key, 'base64').length, TICKET_KEY_BYTES);
    assert.notEqual(first.keys[0], first.keys[1]);

    now += PERIOD - 1;
    assert.deepEqual(await Promise.all([a.runOnce(), b.runOnce()]), [false, false], 'not due yet');
    assert.deepEqual((await ring()).keys, first.keys);

    now += 1;
    const won = await Promise.all([a.runOnce(), b.runOnce()]);
    assert.equal(won.filter(Boolean).length, 1, 'two nodes, one rotation');
    const second = await ring();
    assert.equal(second.keys.length, 2 + PREVIOUS_TICKET_KEYS);
    assert.ok(!first.keys.includes(second.keys[0]!), 'a fresh next key');
    assert.deepEqual(second.keys.slice(1), first.keys, 'the old next key seals, the old sealing key is still accepted');

    now += PERIOD;
    assert.equal(await b.runOnce(), true);
    const third = await ring();
    assert.equal(third.keys.length, 2 + PREVIOUS_TICKET_KEYS);
    assert.deepEqual(third.keys.slice(1), second.keys.slice(0, 2));
    assert.ok(!third.keys.includes(first.keys[1]!), 'a key two rotations past sealing is gone');

    const opened = new SnapshotBuildCache().ticketKeys((await store.getPki())!.ticketKeysSealed!, inst.secretBox);
    assert.equal(opened.sealing.toString('base64'), third.keys[1], 'the edge seals with the second key');
    assert.deepEqual(opened.accepted.map((k) => k.toString('base64')), [third.keys[0], third.keys[2]], 'and accepts the next and the previous');
    assert.equal(opened.rotateEveryMs, PERIOD);
  } finally {
    await a.close();
    await b.close();
  }
});

test('the sealed ring in the store holds no key in the clear', async () => {
  const pki = (await store.getPki())!;
  const { keys } = await ring();
  for (const key of keys) {
    assert.ok(!pki.ticketKeysSealed!.includes(key));
    assert.ok(!pki.ticketKeysSealed!.includes(Buffer.from(key, 'base64').toString('hex')));
  }
});
