// Latency histograms and per-zone counters, scraped from a real admin listener after real
// requests through a real edge: counts by zone and status label, bucket placement of a slow
// origin, and label sets that stay bounded (the zone cap, `other`, `none`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startAdminServer, type AdminServer } from '../../src/edge/index.ts';
import { MAX_ZONE_LABELS } from '../../src/edge/traffic-metrics.ts';
import { ConfigBuilder, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { echoHandler, startHttpOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, Visitor, type TestEdge } from './harness.ts';

/** The slow origin answers after this long: past the 1 s bucket, whatever the machine's load. */
const SLOW_MS = 1_200;

let inst: TestInstallation;
let origin: TestOrigin;
let closedPort: number;
const visitor = new Visitor();

before(async () => {
  inst = await newInstallation();
  origin = await startHttpOrigin({
    handler: (req, res, conn) => {
      if (req.url === '/slow') {
        req.resume();
        setTimeout(() => res.end('slow'), SLOW_MS);
      } else if (req.url === '/fail') {
        req.resume();
        res.writeHead(503).end('origin says no');
      } else echoHandler(req, res, conn);
    },
  });
  // A port nothing listens on: the origin refuses (521).
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});

after(async () => {
  await visitor.close();
  await origin.close();
});

async function withAdmin(edge: TestEdge, fn: (scrape: () => Promise<Map<string, number>>) => Promise<void>): Promise<void> {
  const admin: AdminServer = await startAdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    metrics: () => edge.registry.metrics(),
    metricsContentType: edge.registry.contentType,
    health: () => ({ status: 'ok' }),
  });
  try {
    await fn(async () => {
      const res = await fetch(`http://127.0.0.1:${admin.address.port}/metrics`);
      assert.equal(res.status, 200);
      return parseMetrics(await res.text());
    });
  } finally {
    await admin.close();
  }
}

/** `name{labels}` → value for every sample line. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const series = (samples: Map<string, number>, prefix: string) => [...samples.keys()].filter((k) => k.startsWith(prefix + '{'));

test('requests and edge errors are counted by zone and status label; a slow origin lands above the 1 s bucket', async () => {
  const b = new ConfigBuilder(inst);
  const a = b.zone('a.metrics.test', { sslMode: 'flexible' });
  b.record(a, 'www.a.metrics.test', { httpPort: origin.port });
  const down = b.zone('down.metrics.test', { sslMode: 'flexible' });
  b.record(down, 'www.down.metrics.test', { httpPort: closedPort });
  const edge = await startTestEdge(inst, b.build());
  try {
    for (let i = 0; i < 3; i++) assert.equal((await visitor.get(edge.httpPort, 'www.a.metrics.test', `/${i}`)).status, 200);
    assert.equal((await visitor.get(edge.httpPort, 'www.a.metrics.test', '/fail')).status, 503);
    assert.equal((await visitor.get(edge.httpPort, 'www.a.metrics.test', '/slow')).status, 200);
    assert.equal((await visitor.get(edge.httpPort, 'nowhere.metrics.test', '/')).status, 404);
    assert.equal((await visitor.get(edge.httpPort, 'www.down.metrics.test', '/')).status, 521);

    await withAdmin(edge, async (scrape) => {
      for (let round = 0; round < 2; round++) {
        const m = await scrape();
        // Requests: the origin's 503 is a 5xx request, not an edge error; the edge's 521 and 404 are both.
        assert.equal(m.get('originpull_edge_zone_requests_total{zone="a.metrics.test",status="2xx"}'), 4);
        assert.equal(m.get('originpull_edge_zone_requests_total{zone="a.metrics.test",status="5xx"}'), 1);
        assert.equal(m.get('originpull_edge_zone_requests_total{zone="down.metrics.test",status="521"}'), 1);
        assert.equal(m.get('originpull_edge_zone_requests_total{zone="none",status="4xx"}'), 1);
        assert.equal(series(m, 'originpull_edge_zone_requests_total').length, 4);
        assert.deepEqual(series(m, 'originpull_edge_zone_errors_total').sort(), [
          'originpull_edge_zone_errors_total{zone="down.metrics.test",status="521"}',
          'originpull_edge_zone_errors_total{zone="none",status="4xx"}',
        ]);
        assert.equal(m.get('originpull_edge_zone_errors_total{zone="down.metrics.test",status="521"}'), 1);
        assert.equal(m.get('originpull_edge_zone_errors_total{zone="none",status="4xx"}'), 1);

        // Total time: every request; the slow one alone is above 1 s.
        const total = 'originpull_edge_request_duration_seconds';
        assert.equal(m.get(`${total}_count`), 7);
        assert.equal(m.get(`${total}_bucket{le="+Inf"}`), 7);
        assert.equal(m.get(`${total}_bucket{le="1"}`), 6);
        assert.ok(m.get(`${total}_sum`)! >= SLOW_MS / 1000, `sum ${m.get(`${total}_sum`)}`);
        // Origin time: only the requests that got an origin head (not the 404, not the 521).
        const upstream = 'originpull_edge_origin_duration_seconds';
        assert.equal(m.get(`${upstream}_count`), 5);
        assert.equal(m.get(`${upstream}_bucket{le="+Inf"}`), 5);
        assert.equal(m.get(`${upstream}_bucket{le="1"}`), 4);
        assert.equal(m.get(`${upstream}_bucket{le="0.5"}`)! <= 4, true);
        assert.ok(m.get(`${upstream}_sum`)! >= SLOW_MS / 1000 && m.get(`${upstream}_sum`)! <= m.get(`${total}_sum`)!);
        // Buckets are cumulative.
        const buckets = series(m, `${upstream}_bucket`).map((k) => m.get(k)!);
        assert.deepEqual(buckets, [...buckets].sort((x, y) => x - y));
      }
    });
  } finally {
    await edge.close();
  }
});

test(`zone labels are capped at ${MAX_ZONE_LABELS}; the rest count as "other", and a removed zone frees its label`, async () => {
  const b = new ConfigBuilder(inst);
  const name = (i: number) => `z${String(i).padStart(3, '0')}.cap.test`;
  const zones = Array.from({ length: MAX_ZONE_LABELS + 2 }, (_, i) => {
    const z = b.zone(name(i), { sslMode: 'flexible' });
    b.record(z, `www.${name(i)}`, { httpPort: origin.port });
    return z;
  });
  const edge = await startTestEdge(inst, b.build());
  try {
    const last = name(MAX_ZONE_LABELS + 1);
    assert.equal((await visitor.get(edge.httpPort, `www.${name(0)}`, '/')).status, 200);
    assert.equal((await visitor.get(edge.httpPort, `www.${name(MAX_ZONE_LABELS)}`, '/')).status, 200);
    assert.equal((await visitor.get(edge.httpPort, `www.${last}`, '/')).status, 200);
    await withAdmin(edge, async (scrape) => {
      let m = await scrape();
      assert.equal(m.get(`originpull_edge_zone_requests_total{zone="${name(0)}",status="2xx"}`), 1);
      assert.equal(m.get('originpull_edge_zone_requests_total{zone="other",status="2xx"}'), 2);
      assert.equal(series(m, 'originpull_edge_zone_requests_total').length, 2);

      // Without the first ten zones there is room: the last zone gets its own label from now on,
      // and what `other` counted stays counted.
      b.zones.splice(0, 10);
      const gone = new Set(zones.slice(0, 10).map((z) => z.id));
      b.records = b.records.filter((r) => !gone.has(r.zoneId));
      b.version++;
      edge.apply(b.build());
      assert.equal((await visitor.get(edge.httpPort, `www.${last}`, '/')).status, 200);
      m = await scrape();
      assert.equal(m.get(`originpull_edge_zone_requests_total{zone="${last}",status="2xx"}`), 1);
      assert.equal(m.get('originpull_edge_zone_requests_total{zone="other",status="2xx"}'), 2);
      assert.equal(m.get(`originpull_edge_zone_requests_total{zone="${name(0)}",status="2xx"}`), undefined);
    });
  } finally {
    await edge.close();
  }
});
