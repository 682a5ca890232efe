// origin-config --server traefik: no Debian package, so the output is checked against Traefik's
// documented dynamic-configuration keys (file provider): tls.options.<name>.clientAuth.caFiles and
// clientAuthType, the router's tls.options, tls.certificates, and a loadBalancer service.
// The YAML is parsed with the `yaml` package (already installed with @fastify/swagger), the TOML with
// Python's tomllib when python3 is there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { TRAEFIK_CLIENT_AUTH_TYPES, originConfigInput, renderOriginConfig, traefikDynamicConfig, type Phase } from '../../../src/origin/index.ts';
import { findBinary } from '../../helpers/peers.ts';

/** Traefik's documented clientAuthType values (reference: "TLS Options" → clientAuth). */
const DOCUMENTED_CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];

const opts = (phase: Phase) => ({
  server: 'traefik' as const,
  phase,
  caFile: '/etc/traefik/certs/origin-pull-ca.pem',
  certFile: '/etc/traefik/certs/origin.crt',
  keyFile: '/etc/traefik/certs/origin.key',
  serverName: 'app.example.com',
  upstream: 'http://127.0.0.1:8080',
});

type Obj = Record<string, unknown>;
const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], o);

/** The keys Traefik documents for what we generate; anything else would be ignored or rejected. */
function checkSchema(doc: unknown, phase: Phase): void {
  assert.deepEqual(Object.keys(doc as Obj).sort(), ['http', 'tls']);
  const options = get(doc, 'tls.options') as Obj;
  const optionNames = Object.keys(options);
  assert.equal(optionNames.length, 1);
  const clientAuth = get(options[optionNames[0]], 'clientAuth') as Obj;
  assert.deepEqual(Object.keys(clientAuth).sort(), ['caFiles', 'clientAuthType']);
  assert.deepEqual(clientAuth.caFiles, ['/etc/traefik/certs/origin-pull-ca.pem']);
  assert.ok(DOCUMENTED_CLIENT_AUTH_TYPES.includes(clientAuth.clientAuthType as string));
  assert.equal(clientAuth.clientAuthType, phase === 'enforce' ? 'RequireAndVerifyClientCert' : 'VerifyClientCertIfGiven');

  const certs = get(doc, 'tls.certificates') as Obj[];
  assert.deepEqual(certs, [{ certFile: '/etc/traefik/certs/origin.crt', keyFile: '/etc/traefik/certs/origin.key' }]);

  const routers = get(doc, 'http.routers') as Obj;
  const [router] = Object.values(routers) as Obj[];
  assert.deepEqual(Object.keys(router).sort(), ['entryPoints', 'middlewares', 'rule', 'service', 'tls']);
  assert.equal(router.rule, 'Host(`app.example.com`)');
  // The router must name the TLS option, or Traefik uses its default (no client auth).
  assert.equal(get(router, 'tls.options'), optionNames[0]);
  const services = get(doc, 'http.services') as Obj;
  assert.ok(router.service as string in services);
  assert.deepEqual(get(services[router.service as string], 'loadBalancer.servers'), [{ url: 'http://127.0.0.1:8080' }]);
  const middlewares = get(doc, 'http.middlewares') as Obj;
  for (const name of router.middlewares as string[]) {
    const mw = middlewares[name] as Obj;
    assert.deepEqual(Object.keys(mw), ['passTLSClientCert']);
    const info = get(mw, 'passTLSClientCert.info') as Obj;
    for (const key of Object.keys(info)) assert.ok(['notAfter', 'notBefore', 'sans', 'serialNumber', 'subject', 'issuer'].includes(key), key);
  }
}

describe('origin-config --server traefik', () => {
  it('uses only clientAuthType values Traefik documents', () => {
    assert.deepEqual([...TRAEFIK_CLIENT_AUTH_TYPES], DOCUMENTED_CLIENT_AUTH_TYPES);
  });

  for (const phase of ['log', 'enforce'] as const) {
    it(`phase ${phase}: the YAML parses to Traefik's documented keys`, () => {
      const text = renderOriginConfig({ ...opts(phase), format: 'yaml' });
      const doc = parseYaml(text) as unknown;
      checkSchema(doc, phase);
      assert.deepEqual(doc, traefikDynamicConfig(originConfigInput(opts(phase))));
      assert.match(text, /^# Authenticated Origin Pulls for Traefik/);
      assert.match(text, phase === 'enforce' ? /RequireAndVerifyClientCert \(enforce\)/ : /VerifyClientCertIfGiven \(log\)/);
    });

    it(`phase ${phase}: the TOML parses to the same configuration`, (t) => {
      const python = findBinary('python3');
      const probe = python ? spawnSync(python, ['-c', 'import tomllib'], { encoding: 'utf8' }) : undefined;
      if (!python || probe?.status !== 0) return t.skip('python3 with tomllib (3.11+) not installed: apt-get install python3');
      const text = renderOriginConfig({ ...opts(phase), format: 'toml' });
      const res = spawnSync(python, ['-c', 'import json, sys, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))'], { input: text, encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr + '\n' + text);
      const doc = JSON.parse(res.stdout) as unknown;
      checkSchema(doc, phase);
      assert.deepEqual(doc, traefikDynamicConfig(originConfigInput(opts(phase))));
    });
  }

  it('names the static configuration it needs (entry point, file provider, access log)', () => {
    const text = renderOriginConfig({ ...opts('log'), listen: '8443' });
    assert.match(text, /# {3}entryPoints:\n# {5}websecure:\n# {7}address: ":8443"/);
    assert.match(text, /# {3}providers:\n# {5}file:/);
    assert.match(text, /# {3}accessLog:/);
  });

  it('without --upstream and --host: a catch-all rule and a placeholder service, said so', () => {
    const { upstream: _u, serverName: _s, ...rest } = opts('enforce');
    const text = renderOriginConfig(rest);
    const doc = parseYaml(text) as unknown;
    assert.equal(get(doc, 'http.routers.originpull-aop.rule'), 'PathPrefix(`/`)');
    assert.match(text, /replace the placeholder URL/);
  });
});
