// Which transport carries plain-HTTP visitors: bare TCP handles (tcp-handle-transport.ts) where
// the runtime is one the suite passed on and the switch allows, net.Socket otherwise. The choice
// is visible (the edge's transport info, the metric) and does not change what visitors get.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { adoptionBlocker, TESTED_NODE_MAJORS } from '../../src/edge/tcp-handle-transport.ts';
import { edgeOptionsFromConfig } from '../../src/sync/index.ts';
import { ConfigBuilder, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { startHttpOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge } from './harness.ts';

let inst: TestInstallation;
let origin: TestOrigin;

before(async () => {
  inst = await newInstallation();
  origin = await startHttpOrigin({
    handler: (req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => {
        res.sendDate = false;
        res.setHeader('x-seen', `${req.method} ${req.url} ${n}`);
        res.end(req.url === '/big' ? 'b'.repeat(200_000) : `ok ${req.url}\n`);
      });
    },
  });
});

after(() => origin.close());

test('adoption runs only on tested Node majors and never under the permission model', () => {
  assert.ok(TESTED_NODE_MAJORS.includes(Number(process.versions.node.split('.')[0])), 'the suite runs on a tested major');
  assert.equal(adoptionBlocker(`${TESTED_NODE_MAJORS[0]}.3.0`, false), null);
  assert.match(adoptionBlocker('99.0.0', false)!, /Node 99\.0\.0 is not one of the majors/);
  assert.match(adoptionBlocker('22.11.0', false)!, /Node 22\.11\.0/);
  assert.match(adoptionBlocker(`${TESTED_NODE_MAJORS[0]}.3.0`, true)!, /permission model/);
});

test('under --permission a real listener is not adopted, and says why', () => {
  const module = fileURLToPath(new URL('../../src/edge/tcp-handle-transport.ts', import.meta.url));
  const child = `
    import net from 'node:net';
    const { adoptTcpConnections } = await import(${JSON.stringify(module)});
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => { console.log(JSON.stringify(adoptTcpConnections(server, () => {}))); server.close(); });`;
  const r = spawnSync(process.execPath, ['--permission', '--allow-fs-read=*', '--input-type=module', '-e', child], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { adopted: boolean; reason: string };
  assert.equal(result.adopted, false);
  assert.match(result.reason, /permission model/);
});

test('ORIGINPULL_EDGE_TCP_HANDLES: on by default, 0 turns it off, anything else is refused', () => {
  assert.equal(loadConfig({ env: {} }).edgeTcpHandles, true);
  assert.equal(loadConfig({ env: { ORIGINPULL_EDGE_TCP_HANDLES: '1' } }).edgeTcpHandles, true);
  const off = loadConfig({ env: { ORIGINPULL_EDGE_TCP_HANDLES: '0' } });
  assert.equal(off.edgeTcpHandles, false);
  assert.equal(edgeOptionsFromConfig(off, undefined, 'n').tcpHandles, false);
  assert.throws(() => loadConfig({ env: { ORIGINPULL_EDGE_TCP_HANDLES: 'no' } }), (err: Error) => err instanceof ConfigError && /ORIGINPULL_EDGE_TCP_HANDLES/.test(err.message));
});

/** Sends `request` on a fresh connection and returns all the edge wrote until it closed the connection. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

/** Ray ids differ per edge and request. */
const withoutRays = (text: string) => text.replace(/[0-9a-f]{16}-TEST/g, 'RAY');

test('the switch selects net.Socket: reported as such, and visitors get the same bytes', async () => {
  const b = new ConfigBuilder(inst);
  const z = b.zone('choice.test', { sslMode: 'flexible' });
  b.record(z, 'www.choice.test', { httpPort: origin.port });
  const fast = await startTestEdge(inst, b.build(), { tcpHandles: true });
  const socket = await startTestEdge(inst, b.build(), { tcpHandles: false });
  try {
    assert.deepEqual(fast.edge.visitorTransportInfo, { http: 'tcp-handle', https: 'tls-handle', fallbackReason: null });
    assert.deepEqual(socket.edge.visitorTransportInfo, { http: 'socket', https: 'socket', fallbackReason: 'switched off (ORIGINPULL_EDGE_TCP_HANDLES=0)' });
    const fastMetrics = await fast.registry.metrics();
    assert.match(fastMetrics, /\noriginpull_edge_visitor_transport\{listener="http",transport="tcp-handle"\} 1\n/);
    assert.match(fastMetrics, /\noriginpull_edge_visitor_transport\{listener="https",transport="tls-handle"\} 1\n/);
    const metrics = await socket.registry.metrics();
    assert.match(metrics, /\noriginpull_edge_visitor_transport\{listener="http",transport="socket"\} 1\n/);
    assert.match(metrics, /\noriginpull_edge_visitor_transport\{listener="https",transport="socket"\} 1\n/);
    assert.doesNotMatch(metrics, /transport="t(cp|ls)-handle"/);

    const requests = [
      // Pipelined keep-alive requests, the last one closing.
      'GET /a HTTP/1.1\r\nHost: www.choice.test\r\n\r\nGET /b HTTP/1.1\r\nHost: www.choice.test\r\nConnection: close\r\n\r\n',
      // A body.
      'POST /up HTTP/1.1\r\nHost: www.choice.test\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world',
      // HTTP/1.0, a large answer.
      'GET /big HTTP/1.0\r\nHost: www.choice.test\r\n\r\n',
      // The edge's own answers: unknown host, a malformed head.
      'GET / HTTP/1.1\r\nHost: nowhere.test\r\nConnection: close\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: www.choice.test\r\nContent-Length: x\r\n\r\n',
    ];
    for (const request of requests) {
      const [a, s] = await Promise.all([exchange(fast.httpPort, request), exchange(socket.httpPort, request)]);
      assert.ok(a.startsWith('HTTP/1.1 '), a.slice(0, 80));
      assert.equal(withoutRays(s), withoutRays(a), request.split('\r\n')[0]);
    }
  } finally {
    await fast.close();
    await socket.close();
  }
});
