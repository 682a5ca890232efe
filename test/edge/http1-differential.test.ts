// The case tables (test/edge/http1-cases/) run differentially: the same bytes through the edge,
// through nginx and through HAProxy (Debian's, each in front of a byte-recording origin of its
// own), and the edge compared with both:
//  - it never forwards a request that both refuse (per message: it forwards no more requests of a
//    connection than the more lenient of the two);
//  - it never writes to a visitor a status line or a header line of the origin's that both rewrite
//    or leave out;
//  - it never frames a message differently from how it read it: what the origin gets re-parses,
//    with a parser of the test's own, to the requests the visitor sent (same targets, same
//    payloads), and what the visitor gets to the payload the origin sent.
// Where the edge is stricter than both, that is fine (the counts are reported as diagnostics).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConfigBuilder, newInstallation, type TestInstallation } from '../helpers/pki.ts';
import { haproxyPeer, missingPeer, nginxPeer, startPeer, type RunningPeer } from '../helpers/peers.ts';
import { RawOrigin, type SeenRequest } from '../helpers/raw-http.ts';
import { readMessages, readResponses, type WireMessage } from '../helpers/http1-wire.ts';
import { startTestEdge, type TestEdge } from './harness.ts';
import { HOST, requestTopics, responseTopics, type ResponseCase } from './http1-cases/index.ts';

const requestCases = Object.values(requestTopics).flat();
const responseCases: ResponseCase[] = Object.values(responseTopics).flat();
const skip = missingPeer(nginxPeer({ snippet: () => '' })) ?? missingPeer(haproxyPeer({ snippet: () => '' }));

const pathOf = (head: string) => head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));

function answer(req: SeenRequest, socket: net.Socket): void {
  const path = pathOf(req.head);
  const m = /^\/r\/(\d+)$/.exec(path);
  if (m !== null) {
    const c = responseCases[Number(m[1])];
    socket.write(c.answer, 'latin1');
    if (c.close) socket.end();
    return;
  }
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`, 'latin1');
}

interface Side {
  name: string;
  port: number;
  origin: RawOrigin;
}

let inst: TestInstallation;
let edge: TestEdge;
const peers: RunningPeer[] = [];
let sides: Side[] = [];

before(async () => {
  if (skip) return;
  inst = await newInstallation();
  const origins = [new RawOrigin(answer), new RawOrigin(answer), new RawOrigin(answer)];
  const [edgePort, nginxPort, haproxyPort] = await Promise.all(origins.map((o) => o.listen()));
  const b = new ConfigBuilder(inst);
  const z = b.zone('corpus.test', { sslMode: 'flexible' });
  b.record(z, HOST, { httpPort: edgePort });
  edge = await startTestEdge(inst, b.build());
  const nginx = await startPeer(
    nginxPeer({
      snippet: (ctx) => `    upstream origin { server 127.0.0.1:${nginxPort}; keepalive 4; }
    server {
        listen 127.0.0.1:${ctx.port};
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
        }
    }`,
    }),
  );
  peers.push(nginx);
  const haproxy = await startPeer(
    haproxyPeer({
      snippet: (ctx) => `frontend fe
    bind 127.0.0.1:${ctx.port}
    default_backend be

backend be
    server origin 127.0.0.1:${haproxyPort}
`,
    }),
  );
  peers.push(haproxy);
  sides = [
    { name: 'edge', port: edge.httpPort, origin: origins[0] },
    { name: 'nginx', port: nginx.port, origin: origins[1] },
    { name: 'haproxy', port: haproxy.port, origin: origins[2] },
  ];
});

after(async () => {
  await edge?.close();
  for (const p of peers) await p.stop();
  for (const s of sides) await s.origin.close();
});

/** How long a side may take over a message, and stay silent while taking it, before the run moves on. */
const CAP_MS = 3_000;
const IDLE_MS = 700;
/** Runs that hit CAP_MS or IDLE_MS, per side (a diagnostic: each costs the run time). */
const capped = new Map<string, number>();

interface Run {
  /** What the visitor got. */
  text: string;
  /** Requests the origin framed, and every byte it got, during this run. */
  seen: SeenRequest[];
  raw: string;
}

/**
 * Writes `bytes` to the side and waits for `answers` complete answers, the close, or quiet: a
 * proxy may hold a message it finds incomplete, so no side gets more than a few seconds.
 */
function run(side: Side, bytes: string, answers: number, heads: boolean[]): Promise<Run> {
  const seen = side.origin.seen.length;
  const rawAt = side.origin.mark();
  return new Promise((resolve) => {
    const socket = net.connect(side.port, '127.0.0.1');
    let text = '';
    let quiet: NodeJS.Timeout | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(cap);
      clearTimeout(idle);
      if (quiet !== null) clearTimeout(quiet);
      socket.destroy();
      // The origin side may still be taking the last bytes a proxy forwards.
      setTimeout(() => resolve({ text, seen: side.origin.seen.slice(seen), raw: side.origin.rawSince(rawAt) }), 30);
    };
    // A side that sends nothing for IDLE_MS holds the message as incomplete: the run moves on.
    let idle = setTimeout(() => held(), IDLE_MS);
    const held = () => {
      capped.set(side.name, (capped.get(side.name) ?? 0) + 1);
      finish();
    };
    const cap = setTimeout(held, CAP_MS);
    socket.on('error', () => {});
    socket.on('close', finish);
    socket.on('data', (d: Buffer) => {
      clearTimeout(idle);
      idle = setTimeout(() => held(), IDLE_MS);
      text += d.toString('latin1');
      if (readResponses(text, heads).filter((m) => m.complete).length >= answers) {
        if (quiet !== null) clearTimeout(quiet);
        // A little longer, to catch what should not be there (a second, smuggled answer).
        quiet = setTimeout(finish, 60);
      }
    });
    socket.write(bytes, 'latin1');
  });
}

/** The requests a visitor's bytes hold, as the test's own parser reads them. */
function visitorRequests(bytes: string): WireMessage[] {
  return readMessages(bytes);
}

test('requests: the edge forwards nothing both nginx and HAProxy refuse, and frames what it forwards as it read it', { skip, timeout: 120_000 }, async (t) => {
  const failures: string[] = [];
  let stricter = 0;
  const looserThanOne: string[] = [];
  const forwarded = { edge: 0, nginx: 0, haproxy: 0 };
  for (const c of requestCases) {
    const sent = visitorRequests(c.send);
    const heads = sent.map((m) => m.line.startsWith('HEAD '));
    const [e, n, h] = await Promise.all(sides.map((s) => run(s, c.send, Math.max(1, sent.length), heads)));
    const most = Math.max(n.seen.length, h.seen.length);
    if (e.seen.length > most) failures.push(`${c.name}: the edge forwarded ${e.seen.length} requests, nginx ${n.seen.length}, HAProxy ${h.seen.length}`);
    if (e.seen.length < Math.min(n.seen.length, h.seen.length)) stricter++;
    else if (e.seen.length > Math.min(n.seen.length, h.seen.length)) looserThanOne.push(`${c.name} (${n.seen.length < h.seen.length ? 'nginx' : 'HAProxy'} refuses)`);
    forwarded.edge += e.seen.length;
    forwarded.nginx += n.seen.length;
    forwarded.haproxy += h.seen.length;
    // Framing: the origin's bytes re-parse to the requests the edge answered, each with the
    // visitor's target and payload.
    const got = readMessages(e.raw);
    const answers = readResponses(e.text, heads);
    const answered = answers.filter((m) => /^HTTP\/1\.1 200 /.test(m.line));
    // A request whose body broke part-way went on in part and was then cut (the visitor got the
    // edge's refusal): its origin side ends incomplete, with a prefix of what the visitor sent.
    const cutLast = got.length > 0 && !got[got.length - 1].complete && answers.length === answered.length + 1 && !/^HTTP\/1\.1 200 /.test(answers[answers.length - 1].line);
    const whole = cutLast ? got.slice(0, -1) : got;
    if (whole.length !== e.seen.length || whole.some((m) => !m.complete)) failures.push(`${c.name}: the origin's bytes hold ${got.length} requests (${got.filter((m) => !m.complete).length} incomplete), it framed ${e.seen.length}`);
    if (answered.length !== e.seen.length) failures.push(`${c.name}: ${answered.length} answers for ${e.seen.length} forwarded requests`);
    got.forEach((m, i) => {
      const v = sent[i];
      if (v === undefined) return void failures.push(`${c.name}: forwarded request #${i} was never sent`);
      if (!m.complete) {
        if (!v.raw.startsWith(m.raw)) failures.push(`${c.name} #${i}: the cut body ${JSON.stringify(m.raw)} is not a prefix of ${JSON.stringify(v.raw)}`);
        return;
      }
      if (m.payload !== v.payload) failures.push(`${c.name} #${i}: payload ${JSON.stringify(m.payload)} forwarded for ${JSON.stringify(v.payload)}`);
      if (pathOf(m.line) !== pathOf(v.line) && !/^[a-z]+:\/\//i.test(pathOf(v.line))) failures.push(`${c.name} #${i}: target ${pathOf(m.line)} forwarded for ${pathOf(v.line)}`);
    });
  }
  t.diagnostic(`${requestCases.length} messages; requests forwarded ${JSON.stringify(forwarded)}; the edge forwarded fewer than both peers on ${stricter}, more than one of them on ${looserThanOne.length}: ${looserThanOne.join('; ')}; held until the cap: ${JSON.stringify(Object.fromEntries(capped))}`);
  capped.clear();
  assert.deepEqual(failures, []);
});

/** `name: value` lines of a head, lower-cased and trimmed, for comparing heads across proxies. */
function fieldSet(fields: string[]): Set<string> {
  return new Set(fields.map((f) => {
    const colon = f.indexOf(':');
    return (f.slice(0, colon).trim() + ': ' + f.slice(colon + 1).trim()).toLowerCase();
  }));
}

/** The origin's final (non-1xx) head in an answer: status line after the version, and its fields. */
function originHead(answer: string): { status: string; fields: string[]; payload: string | null } {
  const all = readMessages(answer, { untilEnd: true, bodiless: (line) => /^HTTP\/1\.\d (1\d\d|204|304)/.test(line) });
  const final = all.find((m) => !/^\S+ 1\d\d/.test(m.line)) ?? all[0];
  // No CRLF-ended head at all (bare LFs): the status line is what comes before the first line end.
  if (final === undefined) return { status: answer.slice(answer.indexOf(' ') + 1, answer.search(/\r|\n/)), fields: [], payload: null };
  return { status: final.line.slice(final.line.indexOf(' ') + 1), fields: final.fields, payload: final.complete ? final.payload : null };
}

test("responses: the edge never writes a status or header line of the origin's that both nginx and HAProxy rewrite, and passes payloads as it read them", { skip, timeout: 120_000 }, async (t) => {
  const failures: string[] = [];
  const stricter: string[] = [];
  for (const [i, c] of responseCases.entries()) {
    const method = c.method ?? 'GET';
    const bytes = `${method} /r/${i} HTTP/1.${c.http10 ? 0 : 1}\r\nHost: ${HOST}\r\n\r\n`;
    const heads = [method === 'HEAD'];
    const runs = await Promise.all(sides.map((s) => run(s, bytes, 1, heads)));
    const [e, n, h] = runs.map((r) => readResponses(r.text, heads)[0]);
    const origin = originHead(c.answer);
    const statusOf = (m: WireMessage | undefined) => (m === undefined ? '' : m.line.slice(m.line.indexOf(' ') + 1));
    const rewrote = (m: WireMessage | undefined) => statusOf(m) !== origin.status;
    if (rewrote(n) && rewrote(h) && !rewrote(e)) failures.push(`${c.name}: the edge wrote the origin's status line ${JSON.stringify(origin.status)}; nginx wrote ${JSON.stringify(statusOf(n))}, HAProxy ${JSON.stringify(statusOf(h))}`);
    if (rewrote(e) && !rewrote(n) && !rewrote(h)) stricter.push(c.name);
    if (e !== undefined) {
      const edgeFields = fieldSet(e.fields);
      const nf = fieldSet(n?.fields ?? []);
      const hf = fieldSet(h?.fields ?? []);
      for (const f of fieldSet(origin.fields)) {
        if (!nf.has(f) && !hf.has(f) && edgeFields.has(f)) failures.push(`${c.name}: the edge passed ${JSON.stringify(f)}, which both nginx and HAProxy left out`);
      }
      // Framing: a complete answer the edge passed on carries the origin's payload, whole.
      if (!rewrote(e) && e.complete && origin.payload !== null && method !== 'HEAD' && e.payload !== origin.payload) {
        failures.push(`${c.name}: the visitor got the payload ${JSON.stringify(e.payload)} for ${JSON.stringify(origin.payload)}`);
      }
    }
  }
  t.diagnostic(`${responseCases.length} answers; the edge rewrote (or refused) ${stricter.length} that both peers passed as sent: ${stricter.join('; ')}; held until the cap: ${JSON.stringify(Object.fromEntries(capped))}`);
  assert.deepEqual(failures, []);
});
