// The edge's copy of its last applied configuration on local disk: written whole or not at all,
// owner-only, keys still sealed; bursts of saves coalesce; a damaged copy is skipped for the
// newest good one another worker of the data dir left.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LastKnownConfigError, LastKnownConfigFile, lastKnownConfigPath } from '../../src/sync/index.ts';
import { ConfigBuilder, newCa, newInstallation, clientCert, type TestInstallation } from '../helpers/pki.ts';
import { DEFAULT_EDGE_SETTINGS } from '../../src/domain/index.ts';

let dir: string;
let inst: TestInstallation;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'originpull-last-known-'));
  inst = await newInstallation();
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('the path is <dataDir>/edge-snapshot/<name>.json with a file-safe name', () => {
  assert.equal(lastKnownConfigPath('/data', 'edge-1'), '/data/edge-snapshot/edge-1.json');
  assert.equal(lastKnownConfigPath('/data', '../x/y z'), '/data/edge-snapshot/__x_y_z.json');
});

test('save then load gives the same data; the file is owner-only and holds no plain key', async () => {
  const b = new ConfigBuilder(inst);
  const zone = b.zone('disk.test', { aopEnabled: true });
  b.cert(zone, 'zone', await clientCert(await newCa('c'), 'disk.test'));
  const data = b.build();
  const file = new LastKnownConfigFile(lastKnownConfigPath(dir, 'a'));
  assert.equal(await file.load(), null, 'nothing saved yet');
  await file.save(data);
  assert.deepEqual(await file.load(), data);
  assert.equal(statSync(file.path).mode & 0o777, 0o600);
  assert.doesNotMatch(readFileSync(file.path, 'utf8'), /PRIVATE KEY/);
  assert.deepEqual(readdirSync(join(dir, 'edge-snapshot')), ['a.json'], 'no temp file left');
});

test('a configuration larger than one write is saved whole, as its JSON', async () => {
  const b = new ConfigBuilder(inst);
  const zone = b.zone('many.test');
  for (let i = 0; i < 4_000; i++) b.record(zone, `h${i}.many.test`, { httpsPort: 8443 });
  const data = b.build();
  const file = new LastKnownConfigFile(lastKnownConfigPath(dir, 'big'));
  await file.save(data);
  const text = readFileSync(file.path, 'utf8');
  assert.ok(text.length > 1_000_000, `${text.length} characters: several writes of 64 Ki characters`);
  const { savedAt } = JSON.parse(text) as { savedAt: number };
  assert.equal(text, JSON.stringify({ format: 'originpull-edge-snapshot/1', savedAt, version: data.version, config: data }));
  assert.deepEqual(await file.load(), data);
});

test('a burst of saves coalesces and ends with the latest', async () => {
  const b = new ConfigBuilder(inst);
  const file = new LastKnownConfigFile(lastKnownConfigPath(dir, 'burst'));
  const saves = [];
  for (let i = 0; i < 20; i++) {
    b.zone(`z${i}.test`);
    saves.push(file.save(b.build()));
  }
  await Promise.all(saves);
  assert.equal((await file.load())?.version, b.version);
});

test('saves made while one is written wait the least interval, and only the latest is made and written', async () => {
  const b = new ConfigBuilder(inst);
  const file = new LastKnownConfigFile(lastKnownConfigPath(dir, 'paced'), { minIntervalMs: 300 });
  const made: number[] = [];
  const source = (data: ReturnType<ConfigBuilder['build']>) => () => {
    made.push(data.version);
    return data;
  };
  const first = file.save(source(b.build()));
  const started = Date.now();
  const later = [];
  for (let i = 0; i < 5; i++) {
    b.zone(`p${i}.test`);
    later.push(file.save(source(b.build())));
  }
  await Promise.all([first, ...later]);
  assert.ok(Date.now() - started >= 290, 'the second write waited for the interval');
  assert.deepEqual(made, [b.version - 5, b.version], 'the first, then only the latest of the burst');
  assert.equal((await file.load())?.version, b.version);
});

test('a damaged copy is skipped for the newest good copy in the directory, else reported', async () => {
  const sub = mkdtempSync(join(dir, 'damaged-'));
  const mine = new LastKnownConfigFile(lastKnownConfigPath(sub, 'w0'));
  const other = new LastKnownConfigFile(lastKnownConfigPath(sub, 'w1'));
  const b = new ConfigBuilder(inst);
  b.zone('one.test');
  await mine.save(b.build());
  b.zone('two.test');
  const newer = b.build();
  await other.save(newer);
  writeFileSync(mine.path, '{"format":"originpull-edge-snapshot/1","config":');
  assert.equal((await mine.load())?.version, newer.version);
  rmSync(other.path);
  await assert.rejects(mine.load(), LastKnownConfigError);
});

test('a copy saved before the edge zone settings and origin overrides existed loads with their defaults', async () => {
  const b = new ConfigBuilder(inst);
  const zone = b.zone('old.test', { edge: { alwaysUseHttps: 'on' } });
  b.record(zone, 'www.old.test', {}, { originSni: 'o.example' });
  const data = b.build();
  const file = new LastKnownConfigFile(lastKnownConfigPath(dir, 'old'));
  await file.save(data);
  // Strip what an older edge would not have written.
  const saved = JSON.parse(readFileSync(file.path, 'utf8'));
  for (const z of saved.config.zones) {
    delete z.edge;
    delete z.edgeModifiedOn;
  }
  for (const r of saved.config.records) {
    delete r.originSni;
    delete r.originHostHeader;
  }
  writeFileSync(file.path, JSON.stringify(saved), { mode: 0o600 });
  const loaded = (await new LastKnownConfigFile(file.path).load())!;
  assert.deepEqual(loaded.zones[0].edge, DEFAULT_EDGE_SETTINGS);
  assert.deepEqual(loaded.zones[0].edgeModifiedOn, {});
  assert.equal(loaded.records[0].originSni, null);
  assert.equal(loaded.records[0].originHostHeader, null);
});
