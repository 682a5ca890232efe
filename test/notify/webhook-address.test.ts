// Which addresses a webhook may reach (webhook-address.ts): the class of every kind of address,
// IPv4 carried in IPv6 judged as the IPv4 address, range edges, what opening a class allows, and
// the resolver handed to the socket refusing or passing an answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { addressAllowed, addressClass, guardedLookup } from '../../src/notify/index.ts';

const CLASSES: Record<string, string[]> = {
  public: ['93.184.216.34', '203.0.113.7', '11.0.0.1', '172.15.255.255', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2001:db8::1', '::ffff:8.8.8.8', '64:ff9b::808:808'],
  loopback: ['127.0.0.1', '127.255.0.9', '0.0.0.0', '0.1.2.3', '::1', '::', '[::1]', '::ffff:127.0.0.1', '::ffff:7f00:1', '::127.0.0.1', '64:ff9b::7f00:1', '::FFFF:127.0.0.1'],
  private: ['10.0.0.5', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '198.18.0.1', '192.0.0.8', 'fc00::1', 'fd12:3456::1', 'fec0::1', '::ffff:10.0.0.1', '::a00:1', '64:ff9b::a00:1'],
  'link-local': ['169.254.169.254', 'fe80::1', '::ffff:169.254.1.1'],
  reserved: ['224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255', 'ff02::1', 'example.com', '', '[::1', '256.0.0.1'],
};

test('every kind of address gets its class; IPv4 inside IPv6 is judged as the IPv4 address', () => {
  for (const [cls, addresses] of Object.entries(CLASSES)) {
    for (const address of addresses) assert.equal(addressClass(address), cls, address || '(empty)');
  }
});

test('public addresses always pass; a class passes once opened; reserved ones never do', () => {
  const none = new Set<never>();
  assert.equal(addressAllowed('93.184.216.34', none), true);
  assert.equal(addressAllowed('127.0.0.1', none), false);
  assert.equal(addressAllowed('127.0.0.1', new Set(['loopback'] as const)), true);
  assert.equal(addressAllowed('10.0.0.5', new Set(['loopback'] as const)), false, 'opening loopback opens nothing else');
  assert.equal(addressAllowed('10.0.0.5', new Set(['private'] as const)), true);
  assert.equal(addressAllowed('fe80::1', new Set(['link-local'] as const)), true);
  const all = new Set(['loopback', 'private', 'link-local'] as const);
  for (const address of CLASSES.reserved) assert.equal(addressAllowed(address, all), false, address || '(empty)');
});

function resolve(lookup: ReturnType<typeof guardedLookup>, host: string, all: boolean): Promise<{ err: NodeJS.ErrnoException | null; answer: unknown }> {
  return new Promise((done) => {
    lookup(host, { all }, (err: NodeJS.ErrnoException | null, answer: string | LookupAddress[]) => done({ err, answer }));
  });
}

test('the guarded resolver refuses a loopback answer unless loopback is open, and answers in the shape asked', async () => {
  const refused = await resolve(guardedLookup(new Set()), '127.0.0.1', false);
  assert.ok(refused.err, 'refused');
  assert.equal(refused.err.code, 'ERR_WEBHOOK_ADDRESS');
  assert.equal((refused.err as unknown as { addressClass: string }).addressClass, 'loopback');
  assert.match(refused.err.message, /127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback address/);

  const open = guardedLookup(new Set(['loopback'] as const));
  const one = await resolve(open, '127.0.0.1', false);
  assert.equal(one.err, null);
  assert.equal(one.answer, '127.0.0.1');
  const every = await resolve(open, '127.0.0.1', true);
  assert.equal(every.err, null);
  assert.deepEqual(every.answer, [{ address: '127.0.0.1', family: 4 }]);
});
