// HTTP/2 visitors that misbehave, with raw frames: the limits advertised in SETTINGS hold,
// connection-specific fields and oversized header lists never reach the origin, and a rapid-reset
// flood (CVE-2023-44487) is cut with GOAWAY ENHANCE_YOUR_CALM after a bounded number of streams,
// while the edge keeps answering everyone else with bounded memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP2_LIMITS } from '../../src/edge/http2-session.ts';
import { ConfigBuilder, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startTestEdge, type TestEdge } from './harness.ts';
import { FRAME, h2connect, h2request, headersFrame, RawH2, requestFields, rstFrame, type Frame } from './h2-client.ts';

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_PROTOCOL_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;
const HOST = 'www.h2.test';

/** Many streams at once dial many origin connections at once: a loaded box needs time for the handshakes. */
const GENEROUS = { timeouts: { connectMs: 20_000, responseMs: 20_000, keepAliveMs: 10_000 } };
let inst: TestInstallation;
let origin: TestOrigin;
let edge: TestEdge;

function handler(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  // Slow enough that a reset stream is still the edge's work when the reset arrives.
  const delay = req.url!.startsWith('/slow') ? 2_000 : req.url!.startsWith('/work') ? 50 : 0;
  setTimeout(() => res.end('ok'), delay);
}

before(async () => {
  inst = await newInstallation();
  origin = await startTlsOrigin({ cert: await serverCert(await newCa('o'), ['o.test']), clientCa: inst.originPullCa.certPem, handler });
  const b = new ConfigBuilder(inst);
  b.record(b.zone('h2.test', { tlsClientAuth: 'on' }), HOST, { httpsPort: origin.port });
  edge = await startTestEdge(inst, b.build(), GENEROUS);
});

after(async () => {
  await edge.close();
  await origin.close();
});

const rstCode = (f: Frame) => f.payload.readUInt32BE(0);
const goawayCode = (f: Frame) => f.payload.readUInt32BE(4);
const requestsFor = (prefix: string) => origin.requests.filter((r) => r.url.startsWith(prefix)).length;

test('SETTINGS advertise the concurrent-stream and header-list limits; streams beyond the limit are refused', async () => {
  const raw = await RawH2.connect(edge.httpsPort, HOST, inst.edgeCa.certPem);
  try {
    const settings = await raw.settings();
    assert.equal(settings.get(0x3), HTTP2_LIMITS.maxConcurrentStreams);
    assert.equal(settings.get(0x6), HTTP2_LIMITS.maxHeaderListSize);
    assert.equal(settings.get(0x2), 0, 'no server push');
    // Streams left open (their bodies never sent) count against the limit.
    const n = HTTP2_LIMITS.maxConcurrentStreams + 5;
    const frames: Buffer[] = [];
    for (let i = 0; i < n; i++) frames.push(headersFrame(1 + 2 * i, requestFields(HOST, `/slow/${i}`, 'POST'), false));
    raw.write(Buffer.concat(frames));
    // RFC 9113 §5.1.2 allows refusing the stream or (nghttp2's choice) the connection: either way, PROTOCOL_ERROR or REFUSED_STREAM.
    const refused = await raw.waitFor((f) => (f.type === FRAME.RST_STREAM && f.stream > 2 * HTTP2_LIMITS.maxConcurrentStreams) || f.type === FRAME.GOAWAY);
    assert.ok(refused !== null, 'neither RST_STREAM nor GOAWAY');
    const code = refused.type === FRAME.GOAWAY ? goawayCode(refused) : rstCode(refused);
    assert.ok([NGHTTP2_REFUSED_STREAM, NGHTTP2_PROTOCOL_ERROR].includes(code), `code ${code}`);
    // None of the first 128 was refused, and no more than 128 reached the origin.
    assert.equal(raw.frames.filter((f) => f.type === FRAME.RST_STREAM && f.stream <= 2 * HTTP2_LIMITS.maxConcurrentStreams).length, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(requestsFor('/slow/') <= HTTP2_LIMITS.maxConcurrentStreams, `${requestsFor('/slow/')} reached the origin`);
  } finally {
    raw.close();
  }
});

test('connection-specific fields and an oversized header list are refused and never reach the origin', async () => {
  const raw = await RawH2.connect(edge.httpsPort, HOST, inst.edgeCa.certPem);
  try {
    await raw.settings();
    const cases: [string, [string, string][]][] = [
      ['/bad/connection', [['connection', 'keep-alive']]],
      ['/bad/te', [['te', 'gzip']]],
      ['/bad/transfer-encoding', [['transfer-encoding', 'chunked']]],
      ['/bad/upgrade', [['upgrade', 'websocket']]],
      ['/bad/big', [['x-big', 'a'.repeat(HTTP2_LIMITS.maxHeaderListSize + 1024)]]],
    ];
    let stream = 1;
    for (const [path, extra] of cases) {
      const id = stream;
      stream += 2;
      const block = headersFrame(id, [...requestFields(HOST, path), ...extra]);
      // Larger than one frame may be (16 KiB): split into HEADERS + CONTINUATION.
      if (block.length - 9 > 16_384) {
        const payload = block.subarray(9);
        const first = Buffer.concat([Buffer.from([0, 0x40, 0, FRAME.HEADERS, 0x1, 0, 0, 0, id]), payload.subarray(0, 0x4000)]);
        const rest = payload.subarray(0x4000);
        const parts: Buffer[] = [first];
        for (let at = 0; at < rest.length; at += 0x4000) {
          const piece = rest.subarray(at, at + 0x4000);
          const h = Buffer.alloc(9);
          h.writeUIntBE(piece.length, 0, 3);
          h[3] = 0x9;
          h[4] = at + 0x4000 >= rest.length ? 0x4 : 0;
          h.writeUInt32BE(id, 5);
          parts.push(h, piece);
        }
        raw.write(Buffer.concat(parts));
      } else {
        raw.write(block);
      }
      // Refused either way RFC 9113 allows: RST_STREAM, a 4xx answer, or (for the header list) the connection.
      const answer = await raw.waitFor((f) => f.stream === id && (f.type === FRAME.RST_STREAM || f.type === FRAME.HEADERS) || f.type === FRAME.GOAWAY);
      assert.ok(answer !== null, `${path}: the connection closed`);
      if (answer.type === FRAME.RST_STREAM) assert.ok([NGHTTP2_PROTOCOL_ERROR, NGHTTP2_ENHANCE_YOUR_CALM].includes(rstCode(answer)), `${path}: code ${rstCode(answer)}`);
      if (answer.type === FRAME.HEADERS) {
        // :status from the static table: 400 is index 12, 431 is a literal.
        assert.ok(answer.payload[0] === 0x8c || answer.payload.includes(Buffer.from('431')), `${path}: not a 4xx`);
      }
      if (answer.type === FRAME.GOAWAY) break;
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(requestsFor('/bad/'), 0, 'the origin saw a refused request');
  } finally {
    raw.close();
  }
  // The edge serves well-formed requests on a new connection.
  const session = await h2connect(edge.httpsPort, HOST, inst.edgeCa.certPem);
  try {
    assert.equal((await h2request(session, { ':path': '/fine' })).status, 200);
  } finally {
    session.close();
  }
});

test('a rapid-reset flood gets GOAWAY ENHANCE_YOUR_CALM after a bounded number of streams; the edge stays responsive', async () => {
  const before = requestsFor('/work/');
  const rssBefore = process.memoryUsage().rss;
  const raw = await RawH2.connect(edge.httpsPort, HOST, inst.edgeCa.certPem);
  const started = Date.now();
  const attempted = 20_000;
  let sent = 0;
  try {
    await raw.settings();
    // HEADERS then RST_STREAM at once, as fast as the socket takes them.
    for (let batch = 0; batch < attempted / 500 && !raw.closed; batch++) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 500; i++) {
        const id = 1 + 2 * sent++;
        frames.push(headersFrame(id, requestFields(HOST, `/work/${id}`)), rstFrame(id, NGHTTP2_CANCEL));
      }
      if (!raw.write(Buffer.concat(frames))) await new Promise((r) => raw.socket.once('drain', r).once('close', r));
    }
    const goaway = await raw.waitFor((f) => f.type === FRAME.GOAWAY, 15_000);
    assert.ok(goaway !== null, 'no GOAWAY before the connection closed');
    assert.equal(goawayCode(goaway), NGHTTP2_ENHANCE_YOUR_CALM);
    await raw.waitFor(() => false, 10_000).catch(() => {});
    assert.ok(raw.closed, 'the edge closed the connection');
  } finally {
    raw.close();
  }
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
  // Bounded: the reset budget (burst plus the refill while the flood lasted), far below what was sent.
  await new Promise((r) => setTimeout(r, 300));
  const reached = requestsFor('/work/') - before;
  const bound = HTTP2_LIMITS.resetBurst + (HTTP2_LIMITS.resetsPerSecond * elapsed) / 1000 + HTTP2_LIMITS.maxConcurrentStreams;
  assert.ok(reached <= bound, `${reached} origin requests for ${sent} streams sent (bound ${bound})`);
  assert.ok(sent > reached, `${sent} sent`);
  // Responsive: a well-behaved visitor is answered at once.
  const session = await h2connect(edge.httpsPort, HOST, inst.edgeCa.certPem);
  try {
    assert.equal((await h2request(session, { ':path': '/after-flood' })).status, 200);
  } finally {
    session.close();
  }
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 200 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1024 / 1024)} MiB`);
  const metrics = await edge.registry.metrics();
  assert.match(metrics, /originpull_edge_http2_sessions_closed_total\{reason="reset_flood"\} 1/);
});
