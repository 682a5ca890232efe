// Two edges of one installation mid-rotation: one has applied the rotated ticket key ring, the
// other not yet. Tickets sealed by either resume on both — the early edge seals with what the late
// one still holds as its next key, and the late edge seals with what the early one holds as
// previous — and once both applied it, still. Real TLS 1.3 and 1.2 handshakes with Node's client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import tls from 'node:tls';
import { rotateTicketKeyRing, TICKET_KEY_BYTES, type ConfigData, type TicketKeyRing } from '../../src/domain/index.ts';
import { newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { startTestEdge, type TestEdge } from './harness.ts';

let inst: TestInstallation;
let early: TestEdge;
let late: TestEdge;
let r1: TicketKeyRing;
let r2: TicketKeyRing;

function data(version: number, ring: TicketKeyRing): ConfigData {
  return {
    version,
    zones: [],
    records: [],
    certificates: [],
    associations: [],
    edgeCertificates: [],
    certificatePacks: [],
    acmeChallenges: [],
    pki: { ...inst.pki, ticketKeysSealed: inst.secretBox.seal(JSON.stringify(ring)), ticketKeysRotatedOn: version },
  };
}

before(async () => {
  inst = await newInstallation();
  const fresh = () => randomBytes(TICKET_KEY_BYTES);
  r1 = rotateTicketKeyRing(null, fresh, 3_600_000);
  r2 = rotateTicketKeyRing(r1, fresh, 3_600_000);
  early = await startTestEdge(inst, data(2, r2));
  late = await startTestEdge(inst, data(1, r1));
});

after(async () => {
  await early?.close();
  await late?.close();
});

/** One request; whether the handshake resumed `session`, and the newest session the edge gave. */
async function visit(port: number, maxVersion: tls.SecureVersion, session?: Buffer): Promise<{ reused: boolean; session: Buffer }> {
  let latest: Buffer | undefined;
  const c = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, session, maxVersion });
  c.on('session', (s: Buffer) => (latest = s));
  await once(c, 'secureConnect');
  const reused = c.isSessionReused();
  c.end('GET / HTTP/1.1\r\nHost: tickets.invalid\r\nConnection: close\r\n\r\n');
  c.resume();
  await once(c, 'close');
  // A full handshake always gets a ticket; a resumed one may not (TLS 1.2 keeps the old ticket).
  if (!reused) assert.ok(latest !== undefined, 'the edge issued a session ticket');
  return { reused, session: latest ?? session! };
}

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  test(`${version}: tickets resume both ways between an edge that applied a rotation and one that did not yet`, async () => {
    const fromEarly = await visit(early.httpsPort, version);
    assert.equal(fromEarly.reused, false);
    assert.equal((await visit(late.httpsPort, version, fromEarly.session)).reused, true, 'the late edge accepts its next key');
    const fromLate = await visit(late.httpsPort, version);
    assert.equal((await visit(early.httpsPort, version, fromLate.session)).reused, true, 'the early edge accepts its previous key');
    // A ticket sealed with a key outside the ring: a full handshake, answered all the same.
    const stranger = await startTestEdge(inst, data(1, rotateTicketKeyRing(null, () => randomBytes(TICKET_KEY_BYTES), 3_600_000)));
    try {
      const foreign = await visit(stranger.httpsPort, version);
      assert.equal((await visit(early.httpsPort, version, foreign.session)).reused, false);
    } finally {
      await stranger.close();
    }
  });
}

test('after the late edge applies the rotation too, both tickets still resume on both', async () => {
  const fromLate = await visit(late.httpsPort, 'TLSv1.3');
  late.apply(data(2, r2));
  const fromBoth = await visit(late.httpsPort, 'TLSv1.3');
  for (const edge of [early, late]) {
    assert.equal((await visit(edge.httpsPort, 'TLSv1.3', fromLate.session)).reused, true, 'sealed before the rotation');
    assert.equal((await visit(edge.httpsPort, 'TLSv1.3', fromBoth.session)).reused, true, 'sealed after it');
  }
});
