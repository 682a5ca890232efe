// The ticket key name read from real ClientHellos: Node's TLS client resuming a session offers
// the ticket the server sealed (TLS 1.3 pre_shared_key, TLS 1.2 session_ticket), and the parser
// finds the name of the server's ticket key in front of it; a first visit offers none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { parseClientHello } from '../../src/edge/client-hello.ts';
import { SessionCache, sessionVersion } from '../../src/edge/session-cache.ts';
import { newCa, serverCert } from '../helpers/pki.ts';

async function helloNames(maxVersion: tls.SecureVersion): Promise<(string | null)[]> {
  const cert = await serverCert(await newCa('hello test CA'), ['hello.test']);
  const key = randomBytes(48);
  const server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, maxVersion }, (s) => s.end('x'));
  server.setTicketKeys(key);
  const names: (string | null)[] = [];
  // In front of the TLS server, as the edge's gate: read the ClientHello, then hand the socket on.
  const front = net.createServer((socket) => {
    socket.once('data', (chunk) => {
      const parsed = parseClientHello(chunk);
      assert.equal(parsed.kind, 'hello');
      if (parsed.kind === 'hello') names.push(parsed.hello.ticketKeyName ?? null);
      socket.pause();
      socket.unshift(chunk);
      server.emit('connection', socket);
    });
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  const port = (front.address() as AddressInfo).port;
  let session: Buffer | undefined;
  for (let i = 0; i < 2; i++) {
    const c = tls.connect({ port, host: '127.0.0.1', servername: 'hello.test', rejectUnauthorized: false, session, maxVersion });
    c.on('session', (s: Buffer) => (session = s));
    c.resume();
    await once(c, 'end');
    if (i === 1) assert.equal(c.isSessionReused(), true);
    c.destroy();
  }
  front.close();
  return [...names, key.subarray(0, 16).toString('hex')];
}

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  test(`${version}: the resuming ClientHello names the key that sealed its ticket`, async () => {
    const [first, resumed, keyName] = await helloNames(version);
    assert.equal(first, null, 'a first visit offers no ticket');
    assert.equal(resumed, keyName);
  });
}

test('the TLS 1.2 session cache drops the oldest entry and expired sessions', () => {
  let now = 0;
  const cache = new SessionCache({ maxEntries: 2, ttlMs: 1_000, now: () => now });
  const id = (n: number) => Buffer.from([n]);
  cache.set(id(1), Buffer.from('one'));
  cache.set(id(2), Buffer.from('two'));
  cache.set(id(3), Buffer.from('three'));
  assert.equal(cache.get(id(1)), null, 'oldest dropped');
  assert.equal(String(cache.get(id(3))), 'three');
  now = 1_000;
  assert.equal(cache.get(id(2)), null, 'expired');
  assert.equal(cache.size, 1);
});

test('only TLS 1.2 sessions are kept for session-ID resumption (TLS 1.3 ones resume by ticket)', async () => {
  const cert = await serverCert(await newCa('session cache CA'), ['cache.test']);
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    const cache = new SessionCache({ ttlMs: 60_000 });
    const versions: (number | null)[] = [];
    const server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, maxVersion: version }, (s) => s.end('x'));
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      versions.push(sessionVersion(data));
      cache.onNewSession(id, data, done);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = tls.connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false, maxVersion: version,
      // A TLS 1.2 visitor without tickets is the one that resumes by session ID.
      ...(version === 'TLSv1.2' ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}) });
    c.resume();
    await once(c, 'end');
    c.destroy();
    server.close();
    assert.ok(versions.length > 0, `${version}: newSession was emitted`);
    assert.ok(versions.every((v) => v === (version === 'TLSv1.3' ? 0x0304 : 0x0303)), `${version}: versions read ${versions.join(',')}`);
    assert.equal(cache.size, version === 'TLSv1.3' ? 0 : 1);
  }
});
