// Origin sockets read into recycled blocks; a block a visitor write still points into must not be
// read into again. Unit rules first, then the property that matters: many visitors, fast and
// stalling, over one TLS origin with AOP, each get exactly their own bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { BLOCK_SIZE, freeBlocks, takeBlock } from '../../src/edge/read-blocks.ts';
import { startTlsOrigin, type TestOrigin } from '../helpers/origin.ts';
import { ConfigBuilder, newCa, newInstallation, serverCert } from '../helpers/pki.ts';
import { startTestEdge, type TestEdge } from './harness.ts';

test('a lent block returns to the free list only when disowned and every loan is repaid', () => {
  const block = takeBlock();
  assert.equal(block.buf.length, BLOCK_SIZE);
  const repayA = block.lend();
  const repayB = block.lend();
  const before = freeBlocks();
  block.disown();
  assert.equal(freeBlocks(), before, 'still lent: not free');
  repayA();
  assert.equal(freeBlocks(), before, 'one loan left: not free');
  repayB();
  assert.equal(freeBlocks(), before + 1, 'repaid and disowned: free');
  assert.equal(takeBlock(), block, 'the free block is reused');
  // Owned again: repaying and disowning in the other order frees it too.
  const repay = block.lend();
  repay();
  assert.equal(freeBlocks(), before, 'owned: not free even with no loans');
  block.disown();
  assert.equal(freeBlocks(), before + 1);
});

/** Bytes that differ per request and per position, so a block read into twice shows. */
function pattern(seed: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let origin: TestOrigin;
let edge: TestEdge;

before(async () => {
  const inst = await newInstallation();
  const originCa = await newCa('read-blocks origin CA');
  // /<seed>/<size>[/chunked]: a patterned body, in pieces with pauses so reads interleave;
  // /<seed>/<size>/once: in one write.
  origin = await startTlsOrigin({
    cert: await serverCert(originCa, ['blocks.test']),
    clientCa: inst.originPullCa.certPem,
    handler: (req, res) => {
      const [, seed, size, mode] = (req.url ?? '').split('/');
      const body = pattern(Number(seed), Number(size));
      if (mode === 'once') {
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
        return;
      }
      if (mode === 'chunked') res.writeHead(200);
      else res.writeHead(200, { 'content-length': body.length });
      let at = 0;
      const step = () => {
        const n = Math.min(body.length - at, 40_000 + (Number(seed) % 7) * 3_001);
        res.write(body.subarray(at, at + n));
        at += n;
        if (at < body.length) setTimeout(step, Number(seed) % 3);
        else res.end();
      };
      step();
    },
  });
  const b = new ConfigBuilder(inst);
  const z = b.zone('blocks.test', { sslMode: 'full', tlsClientAuth: 'on' });
  b.record(z, 'www.blocks.test', { httpsPort: origin.port, host: '127.0.0.1' });
  edge = await startTestEdge(inst, b.build());
});

after(async () => {
  await edge.close();
  await origin.close();
});

/** One request on a raw connection; a stalling visitor stops reading for a while after each read. */
function fetchBody(path: string, opts: { stall: boolean; http10?: boolean }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(edge.httpPort, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      if (opts.stall) {
        socket.pause();
        setTimeout(() => socket.resume(), 5);
      }
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(parts);
      const end = all.indexOf('\r\n\r\n');
      const head = all.toString('latin1', 0, end);
      if (!/^HTTP\/1\.1 200 /.test(head)) return reject(new Error(`unexpected answer: ${head}`));
      resolve(all.subarray(end + 4));
    });
    const version = opts.http10 ? '1.0' : '1.1';
    socket.write(`GET ${path} HTTP/${version}\r\nHost: www.blocks.test\r\nConnection: close\r\n\r\n`);
  });
}

test('concurrent downloads through pooled TLS connections each get exactly their own bytes, fast or stalled', async () => {
  const jobs: Promise<void>[] = [];
  for (let seed = 1; seed <= 24; seed++) {
    const size = [17 * 1024, 200_000, 1_000_003][seed % 3];
    const chunked = seed % 4 === 0;
    const http10 = chunked && seed % 8 === 0;
    const path = `/${seed}/${size}${chunked ? '/chunked' : ''}`;
    jobs.push(
      fetchBody(path, { stall: seed % 2 === 0, http10 }).then((body) => {
        // HTTP/1.1 visitors get the origin's chunks as they are; HTTP/1.0 visitors get them decoded.
        const payload = chunked && !http10 ? dechunk(body) : body;
        assert.equal(payload.length, size, `${path}: length`);
        assert.equal(sha(payload), sha(pattern(seed, size)), `${path}: bytes`);
      }),
    );
  }
  await Promise.all(jobs);
});

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.toString('latin1', at, eol), 16);
    if (size === 0) return Buffer.concat(out);
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

test('an origin connection paused for a visitor who then ended its connection reads again for the next request', { timeout: 15_000 }, async () => {
  // One write of 80 KiB reaches the edge as several TLS records decrypted in one go: the visitor's
  // buffer fills (it is not reading), the origin socket pauses, and the answer still completes.
  // The visitor asked for Connection: close, so its socket is ended and emits no 'drain'.
  const socket = net.connect(edge.httpPort, '127.0.0.1');
  socket.pause();
  socket.write('GET /77/81920/once HTTP/1.1\r\nHost: www.blocks.test\r\nConnection: close\r\n\r\n');
  await new Promise((r) => setTimeout(r, 300));
  const parts: Buffer[] = [];
  socket.on('data', (d: Buffer) => parts.push(d));
  socket.resume();
  await new Promise((r) => socket.on('end', r));
  socket.destroy();
  const first = Buffer.concat(parts);
  assert.equal(sha(first.subarray(first.indexOf('\r\n\r\n') + 4)), sha(pattern(77, 81_920)));
  // Every pooled connection must answer: as many sequential requests as there can be idle ones.
  for (let i = 0; i < 30; i++) {
    const body = await fetchBody(`/${100 + i}/100`, { stall: false });
    assert.equal(sha(body), sha(pattern(100 + i, 100)));
  }
});
