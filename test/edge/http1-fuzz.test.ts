// Bounded fuzzing of the HTTP/1.1 parsers with a seeded PRNG (failures name their seed and
// reproduce): chunked bodies and heads, valid and mutated, fed whole and split at random read
// boundaries. Properties: one outcome whatever the boundaries, only the parsers' own errors
// escape, and what the scanner passes on re-scans to the same message. Longer run:
// FUZZ_ITERATIONS=200000 FUZZ_SEED=<n> npx node --test test/edge/http1-fuzz.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedFramingError, ChunkedScanner } from '../../src/edge/http1/chunked.ts';
import { findHeadEnd, HeadError, parseRequestHead, parseStatusLine } from '../../src/edge/http1/head.ts';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3_000);
const SEED = Number(process.env.FUZZ_SEED ?? 22);

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = ['\r', '\n', '\0', ' ', '\t', ';', '=', '"', '\\', ':', '\xa0', '\x0b', 'G', '0', 'f', 'z', '\r\n', '\r\n\r\n', '-', '\x7f'];

function mutate(s: string, rnd: () => number): string {
  let out = s;
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const pick = NASTY[Math.floor(rnd() * NASTY.length)];
    const op = rnd();
    if (op < 0.4) out = out.slice(0, at) + pick + out.slice(at);
    else if (op < 0.7) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + pick + out.slice(at + 1);
  }
  return out;
}

function chunkedBody(rnd: () => number): string {
  let s = '';
  const chunks = Math.floor(rnd() * 4);
  for (let i = 0; i < chunks; i++) {
    const len = 1 + Math.floor(rnd() * 20);
    s += len.toString(16) + (rnd() < 0.3 ? ';a=b' : rnd() < 0.2 ? ';q="x y"' : '') + '\r\n' + 'd'.repeat(len) + '\r\n';
  }
  s += '0\r\n' + (rnd() < 0.3 ? 'X-T: v\r\n' : '') + '\r\n';
  return s + (rnd() < 0.5 ? 'NEXT' : '');
}

type Outcome = { end: number; passed: string; reason: string; trailers: boolean };

function scan(bytes: Buffer, cuts: number[]): Outcome {
  const s = new ChunkedScanner();
  let passed = '';
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    try {
      const end = s.feed(bytes, from, cut);
      passed += bytes.toString('latin1', from, s.forwardEnd);
      if (end >= 0) return { end, passed: passed + (s.trailersDropped ? '\r\n' : ''), reason: '', trailers: s.trailersDropped };
    } catch (err) {
      if (!(err instanceof ChunkedFramingError)) throw err;
      return { end: -2, passed: '', reason: err.reason, trailers: false };
    }
    from = cut;
  }
  return { end: -1, passed, reason: '', trailers: false };
}

function randomCuts(len: number, rnd: () => number): number[] {
  const cuts = new Set<number>();
  const n = Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) cuts.add(Math.floor(rnd() * len));
  return [...cuts].sort((a, b) => a - b);
}

test(`chunked scanner: one outcome whatever the read boundaries; passed-on bytes re-scan to the same message (seed ${SEED})`, () => {
  const rnd = prng(SEED);
  for (let i = 0; i < ITERATIONS; i++) {
    const base = chunkedBody(rnd);
    const text = rnd() < 0.5 ? mutate(base, rnd) : base;
    const bytes = Buffer.from(text, 'latin1');
    const whole = scan(bytes, []);
    const split = scan(bytes, randomCuts(bytes.length, rnd));
    assert.deepEqual(split, whole, `iteration ${i}: ${JSON.stringify(text)}`);
    if (whole.end >= 0) {
      const again = scan(Buffer.from(whole.passed, 'latin1'), []);
      assert.equal(again.end, whole.passed.length, `iteration ${i}: what is passed on is one whole message: ${JSON.stringify(whole.passed)}`);
      assert.equal(again.passed, whole.passed, `iteration ${i}`);
      assert.equal(again.trailers, false, 'no trailer survives');
    }
  }
});

function requestHead(rnd: () => number): string {
  const targets = ['/', '/a?b=c', 'http://x.test/p', '*', 'http://u@x.test/', 'x.test:80', 'foo'];
  const methods = ['GET', 'POST', 'OPTIONS', 'CONNECT', 'PUT'];
  let s = `${methods[Math.floor(rnd() * methods.length)]} ${targets[Math.floor(rnd() * targets.length)]} HTTP/1.${rnd() < 0.8 ? 1 : 0}\r\nHost: x.test\r\n`;
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) s += `X-H${i}: v${i}\r\n`;
  return s + '\r\n';
}

test(`heads: accepted (with the same end) or refused the same whatever the read boundaries; only HeadError escapes (seed ${SEED})`, () => {
  const rnd = prng(SEED + 1);
  for (let i = 0; i < ITERATIONS; i++) {
    const base = requestHead(rnd);
    const text = rnd() < 0.6 ? mutate(base, rnd) : base;
    const bytes = Buffer.from(text, 'latin1');
    const find = (cuts: number[]): string => {
      let scanned = 0;
      for (const cut of [...cuts, bytes.length]) {
        try {
          const end = findHeadEnd(bytes.subarray(0, cut), 0, scanned);
          if (end >= 0) {
            // A bare LF is refused early when the head is incomplete, or by the parser once whole.
            parseRequestHead(text.slice(0, end));
            return `end ${end}`;
          }
        } catch (err) {
          if (!(err instanceof HeadError)) throw err;
          assert.match(err.reason, /^[a-z0-9_]+$/);
          return 'refused';
        }
        scanned = cut;
      }
      return 'incomplete';
    };
    const whole = find([]);
    assert.equal(find(randomCuts(bytes.length, rnd)), whole, `iteration ${i}: ${JSON.stringify(text)}`);
    if (whole.startsWith('end ')) {
      const end = Number(whole.slice(4));
      try {
        const head = parseRequestHead(text.slice(0, end));
        assert.ok(head.path === '*' || head.path.startsWith('/'), `the origin gets origin form: ${head.path}`);
        assert.notEqual(head.method, 'CONNECT');
      } catch (err) {
        if (!(err instanceof HeadError)) throw err;
        assert.match(err.reason, /^[a-z0-9_]+$/);
      }
    }
  }
});

test(`status lines: accepted ones hold no control bytes and a 3-digit status (seed ${SEED})`, () => {
  const rnd = prng(SEED + 2);
  for (let i = 0; i < ITERATIONS; i++) {
    const text = mutate('HTTP/1.1 200 OK\r\nContent-Length: 0', rnd);
    try {
      const { status, reason } = parseStatusLine(text);
      assert.ok(status >= 100 && status <= 999);
      assert.doesNotMatch(reason, /[\0-\x08\x0a-\x1f\x7f]/, JSON.stringify(text));
    } catch (err) {
      if (!(err instanceof HeadError)) throw err;
    }
  }
});
