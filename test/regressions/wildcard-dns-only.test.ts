// Cause: DNS-only records were left out of the snapshot, so a proxied wildcard answered for a name that has its own `proxied: false` record.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigBuilder, newInstallation } from '../helpers/pki.ts';
import { startHttpOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor, type TestEdge } from '../edge/harness.ts';

let origin: TestOrigin;
let edge: TestEdge;
const visitor = new Visitor();

before(async () => {
  const inst = await newInstallation();
  origin = await startHttpOrigin({ handler: (_req, res) => res.end('from origin') });
  const b = new ConfigBuilder(inst);
  const zone = b.zone('app.test', { sslMode: 'flexible' });
  b.record(zone, '*.app.test', { httpPort: origin.port });
  b.record(zone, 'direct.app.test', { httpPort: origin.port }, { proxied: false });
  b.record(zone, '*.dns.app.test', { httpPort: origin.port }, { proxied: false });
  edge = await startTestEdge(inst, b.build());
});

after(async () => {
  await visitor.close();
  await edge.close();
  await origin.close();
});

test('a proxied wildcard still serves names without a record of their own', async () => {
  const res = await visitor.get(edge.httpPort, 'other.app.test');
  assert.equal(res.status, 200);
  assert.equal(res.text, 'from origin');
});

test('a DNS-only record wins over the proxied wildcard: the edge does not proxy the name', async () => {
  const res = await visitor.get(edge.httpPort, 'direct.app.test', '/', { headers: { accept: 'application/json' } });
  assert.equal(res.status, 404, res.text);
  assert.equal(res.json().code, 'host_not_proxied');
  assert.notEqual(res.text, 'from origin');
});

test('a nearer DNS-only wildcard wins over a proxied one further up', async () => {
  const res = await visitor.get(edge.httpPort, 'x.dns.app.test');
  assert.equal(res.status, 404, res.text);
  assert.match(res.text, /not proxied/);
});
