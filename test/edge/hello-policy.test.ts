// decideHello's version rule against every combination of a zone's range and what a visitor
// offers, the ranges computed from the zone settings (domain tlsRange), and that names without
// a certificate are refused before versions are looked at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tlsRange, MIN_TLS_VERSIONS, TLS_1_3_VALUES, type TlsProtocol } from '../../src/domain/index.ts';
import type { ClientHello, TlsVersion } from '../../src/edge/client-hello.ts';
import { decideHello, type HelloFacts } from '../../src/edge/hello-policy.ts';

const ALL: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const hello = (versions: TlsVersion[], serverName: string | null = 'app.example.com'): ClientHello => ({ serverName, alpn: [], versions });
const facts = (min: TlsProtocol, max: TlsProtocol): HelloFacts => ({ servesName: () => true, tlsVersions: () => ({ min, max }) });
const rank = (v: string) => ALL.indexOf(v as TlsVersion);

test('tlsRange: min_tls_version is the floor, tls_1_3 off caps at 1.2, zrt is on, a 1.3 floor keeps 1.3', () => {
  assert.deepEqual(tlsRange({ minTlsVersion: '1.2', tls13: 'on' }), { min: 'TLSv1.2', max: 'TLSv1.3' });
  assert.deepEqual(tlsRange({ minTlsVersion: '1.2', tls13: 'zrt' }), { min: 'TLSv1.2', max: 'TLSv1.3' });
  assert.deepEqual(tlsRange({ minTlsVersion: '1.2', tls13: 'off' }), { min: 'TLSv1.2', max: 'TLSv1.2' });
  assert.deepEqual(tlsRange({ minTlsVersion: '1.3', tls13: 'off' }), { min: 'TLSv1.3', max: 'TLSv1.3' }, 'the pair the API refuses still leaves a version');
  for (const minTlsVersion of MIN_TLS_VERSIONS) {
    for (const tls13 of TLS_1_3_VALUES) {
      const r = tlsRange({ minTlsVersion, tls13 });
      assert.ok(rank(r.min) <= rank(r.max), `${minTlsVersion}/${tls13}`);
    }
  }
});

test('decideHello: a visitor offering nothing in the zone range gets protocol_version; 1.3 above a 1.2 cap goes to the 1.2 server', () => {
  // Every contiguous offer (as real clients make) against every range.
  for (let lo = 0; lo < ALL.length; lo++) {
    for (let hi = lo; hi < ALL.length; hi++) {
      const offered = ALL.slice(lo, hi + 1);
      for (const [min, max] of [['TLSv1.2', 'TLSv1.3'], ['TLSv1.3', 'TLSv1.3'], ['TLSv1.2', 'TLSv1.2']] as [TlsProtocol, TlsProtocol][]) {
        const d = decideHello(hello(offered), facts(min, max));
        const usable = offered.some((v) => rank(v) >= rank(min) && rank(v) <= rank(max));
        const above = offered.some((v) => rank(v) > rank(max));
        const label = `${offered.join(',')} vs ${min}-${max}`;
        if (!usable) {
          assert.equal(d.kind, 'alert', label);
          assert.equal(d.kind === 'alert' && d.alert, 'protocol_version', label);
          assert.equal(d.kind === 'alert' && d.reason, above ? 'tls_version_above_zone_maximum' : 'tls_version_below_zone_minimum', label);
        } else {
          assert.equal(d.kind, above ? 'tls12' : 'tls', label);
        }
      }
    }
  }
});

test('decideHello: unknown names are refused first; without SNI the range asked for is the default one', () => {
  const asked: (string | null)[] = [];
  const f: HelloFacts = {
    servesName: (host) => host !== 'nobody.example',
    tlsVersions: (host) => {
      asked.push(host);
      return { min: 'TLSv1.2', max: 'TLSv1.3' };
    },
  };
  const d = decideHello(hello(['TLSv1.2'], 'nobody.example'), f);
  assert.equal(d.kind === 'alert' && d.alert, 'unrecognized_name');
  assert.deepEqual(asked, []);
  assert.equal(decideHello(hello(['TLSv1.2', 'TLSv1.3'], null), f).kind, 'tls');
  assert.deepEqual(asked, [null]);
  // Without tlsVersions (callers that only gate names), versions are the TLS server's business.
  assert.equal(decideHello(hello(['TLSv1']), { servesName: () => true }).kind, 'tls');
});
