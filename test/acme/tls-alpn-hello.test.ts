// The TLS gate's decision for ACME TLS-ALPN-01 hellos (RFC 8737: the CA offers acme-tls/1 alone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideHello } from '../../src/edge/hello-policy.ts';
import type { ClientHello } from '../../src/edge/client-hello.ts';

const facts = { servesName: (h: string) => h === 'www.example.com', hasAcmeTlsAlpn: (h: string) => h === 'new.example.com' };
const hello = (serverName: string | null, alpn: string[]): ClientHello => ({ serverName, alpn, versions: ['TLSv1.3'] });

test('acme-tls/1 for a name under validation goes to the challenge server', () => {
  assert.deepEqual(decideHello(hello('new.example.com', ['acme-tls/1']), facts), { kind: 'acme_tls_alpn', host: 'new.example.com' });
});

test('acme-tls/1 for a name with no challenge is refused with no_application_protocol', () => {
  const d = decideHello(hello('www.example.com', ['acme-tls/1']), facts);
  assert.equal(d.kind, 'alert');
  assert.equal(d.kind === 'alert' && d.alert, 'no_application_protocol');
});

test('a browser offering acme-tls/1 among others is an ordinary visitor', () => {
  assert.deepEqual(decideHello(hello('www.example.com', ['h2', 'acme-tls/1', 'http/1.1']), facts), { kind: 'tls' });
  assert.equal(decideHello(hello('new.example.com', ['http/1.1']), facts).kind, 'alert', 'no certificate for the name yet: unrecognized_name');
});
