// The shared scenario for a real origin server (nginx, Apache, HAProxy, Caddy): render origin-config
// for phase log and phase enforce, run the Debian server with it on 127.0.0.1, send requests with and
// without the client certificate made by src/pki, read the server's log, and run verify-origin.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { createCa, issueCertificate, type PemPair } from '../../../src/pki/index.ts';
import { renderOriginConfig, verifyOrigin, type OriginServer, type Phase } from '../../../src/origin/index.ts';
import { newInstallation, ConfigBuilder } from '../../helpers/pki.ts';
import { startTestEdge, type TestEdge } from '../../edge/harness.ts';
import { missingPeer, startPeer, type PeerContext, type PeerDefinition, type RunningPeer, type SnippetPeerOptions } from '../../helpers/peers.ts';

export const HOSTNAME = 'origin.test';

export interface Materials {
  ca: PemPair;
  client: PemPair;
  server: PemPair;
  /** A client certificate from an unrelated CA. */
  foreign: PemPair;
}

export async function makeMaterials(): Promise<Materials> {
  const ca = await createCa({ commonName: 'example.test', keyType: 'p256' });
  const serverCa = await createCa({ commonName: 'origin server CA', keyType: 'p256' });
  const otherCa = await createCa({ commonName: 'someone else', keyType: 'p256' });
  return {
    ca,
    client: await issueCertificate({ ca, commonName: 'edge.example.test', usage: 'client' }),
    server: await issueCertificate({ ca: serverCa, commonName: HOSTNAME, usage: 'server' }),
    foreign: await issueCertificate({ ca: otherCa, commonName: 'edge.example.test', usage: 'client' }),
  };
}

/** The application behind the origin: answers 200 with the headers it received. */
export async function startApp(): Promise<{ url: string; seen: Record<string, string | string[] | undefined>[]; server: Server }> {
  const seen: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ app: 'ok', headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, server };
}

export type OriginReply = { status: number; body: string } | { error: string; message: string };

/** One HTTPS request to the origin, as the edge would make it (SNI and Host = the hostname). */
export function requestOrigin(port: number, cert?: PemPair): Promise<OriginReply> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername: HOSTNAME,
        headers: { host: `${HOSTNAME}:${port}` },
        rejectUnauthorized: false,
        agent: false,
        ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? 'ERROR', message: err.message }));
    req.end();
  });
}

/** A visitor's request through the edge's HTTP listener, with the Host a browser sends: no port. */
function viaEdge(edge: TestEdge): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: edge.httpPort, path: '/', headers: { host: HOSTNAME }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An edge proxying HOSTNAME to the peer (SSL mode full), with zone-level AOP presenting `client` when given. */
async function edgeFor(peer: RunningPeer, client?: PemPair): Promise<{ edge: TestEdge; builder: ConfigBuilder }> {
  const installation = await newInstallation();
  const builder = new ConfigBuilder(installation);
  const zone = builder.zone(HOSTNAME, { sslMode: 'full' });
  builder.record(zone, HOSTNAME, { httpsPort: peer.port });
  if (client) {
    builder.cert(zone, 'zone', client);
    builder.settings(zone, { aopEnabled: true });
  }
  return { edge: await startTestEdge(installation, builder.build()), builder };
}

export interface OriginSuiteSpec {
  server: Exclude<OriginServer, 'traefik'>;
  /** The peer preset (nginxPeer, apachePeer…). */
  peer: (opts: SnippetPeerOptions) => PeerDefinition;
  /** Where the verification log goes: a file in the peer's dir, or the peer's stdout. */
  log: { file: string } | 'stdout';
  /** The log line of a request made without a client certificate shows it was not verified. */
  unverified: (logText: string) => boolean;
  /** The log line of a request with the client certificate shows it was verified. */
  verified: (logText: string) => boolean;
}

const FILES = (m: Materials) => ({
  'client-ca.pem': m.ca.certPem,
  'origin.crt': m.server.certPem,
  // HAProxy's convention (the key beside the certificate); the others are told the path.
  'origin.crt.key': m.server.keyPem,
});

function render(spec: OriginSuiteSpec, phase: Phase, ctx: PeerContext, upstream: string | undefined): string {
  return renderOriginConfig({
    server: spec.server,
    phase,
    caFile: ctx.path('client-ca.pem'),
    certFile: ctx.path('origin.crt'),
    keyFile: ctx.path('origin.crt.key'),
    serverName: HOSTNAME,
    listen: `127.0.0.1:${ctx.port}`,
    upstream,
    // HAProxy has no log file of its own (it logs to the global target, stdout in the test peer).
    logFile: spec.log === 'stdout' ? undefined : ctx.path(spec.log.file),
  });
}

function readLog(spec: OriginSuiteSpec, peer: RunningPeer): string {
  return spec.log === 'stdout' ? peer.output() : peer.readFile(spec.log.file);
}

async function waitForLog(spec: OriginSuiteSpec, peer: RunningPeer, test: (text: string) => boolean): Promise<string> {
  const until = Date.now() + 3_000;
  for (;;) {
    const text = readLog(spec, peer);
    if (test(text)) return text;
    if (Date.now() > until) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function originSuite(spec: OriginSuiteSpec): void {
  const skip = missingPeer(spec.peer({ snippet: () => '' }));
  describe(`origin-config --server ${spec.server} on the real server`, { skip }, () => {
    let m: Materials;
    let app: Awaited<ReturnType<typeof startApp>>;
    before(async () => {
      m = await makeMaterials();
      app = await startApp();
    });
    after(() => app?.server.close());

    describe('phase log', () => {
      let peer: RunningPeer;
      before(async () => {
        peer = await startPeer(spec.peer({ files: FILES(m), snippet: (ctx) => render(spec, 'log', ctx, app.url) }));
      });
      after(() => peer?.stop());

      it('serves a request without a client certificate and logs it as not verified', async () => {
        const reply = await requestOrigin(peer.port);
        assert.ok('status' in reply, `expected an HTTP response, got ${JSON.stringify(reply)}`);
        assert.equal(reply.status, 200);
        assert.match(reply.body, /"app":"ok"/);
        const log = await waitForLog(spec, peer, spec.unverified);
        assert.ok(spec.unverified(log), `the log does not show an unverified request:\n${log}`);
      });

      it('verifies and logs the client certificate when one is sent', async () => {
        const reply = await requestOrigin(peer.port, m.client);
        assert.ok('status' in reply && reply.status === 200, JSON.stringify(reply));
        const log = await waitForLog(spec, peer, spec.verified);
        assert.ok(spec.verified(log), `the log does not show a verified request:\n${log}`);
      });

      // What the log phase is for: the edge's own requests show up in the log as verified. The edge
      // sends the visitor's Host, without the origin's port.
      it('logs a request through the originpull edge (zone-level AOP) as verified', async () => {
        const { edge } = await edgeFor(peer, m.client);
        try {
          const count = () => readLog(spec, peer).split('\n').filter((line) => spec.verified(line)).length;
          const before = count();
          const reply = await viaEdge(edge);
          assert.equal(reply.status, 200, reply.body.slice(0, 300));
          const log = await waitForLog(spec, peer, () => count() > before);
          assert.ok(count() > before, `no verified line for the edge's request in the log:\n${log}`);
        } finally {
          await edge.close();
        }
      });

      it('verify-origin says it is not enforced, because a request without a certificate is served', async () => {
        const r = await verifyOrigin({ origin: `127.0.0.1:${peer.port}`, hostname: HOSTNAME, cert: m.client.certPem, key: m.client.keyPem, timeoutMs: 5_000 });
        assert.equal(r.verdict, 'not-enforced', JSON.stringify(r.checks, null, 2));
        assert.equal(r.exitCode, 1);
        assert.equal(r.checks.find((c) => c.id === 'no-cert')?.status, 'fail');
        assert.equal(r.checks.find((c) => c.id === 'given-cert')?.status, 'pass');
        assert.match(r.summary, /without a client certificate/);
      });
    });

    describe('phase enforce', () => {
      let peer: RunningPeer;
      before(async () => {
        peer = await startPeer(spec.peer({ files: FILES(m), snippet: (ctx) => render(spec, 'enforce', ctx, app.url) }));
      });
      after(() => peer?.stop());

      it('refuses a request without a client certificate', async () => {
        const before = app.seen.length;
        const reply = await requestOrigin(peer.port);
        if ('status' in reply) assert.ok(reply.status >= 400 && reply.status < 500, `expected a 4xx refusal, got ${reply.status}`);
        else assert.match(reply.error, /ERR_SSL|ECONNRESET/);
        assert.equal(app.seen.length, before, 'the request reached the application');
      });

      it('refuses a client certificate from another CA', async () => {
        const before = app.seen.length;
        const reply = await requestOrigin(peer.port, m.foreign);
        if ('status' in reply) assert.ok(reply.status >= 400 && reply.status < 500, `expected a 4xx refusal, got ${reply.status}`);
        assert.equal(app.seen.length, before, 'the request reached the application');
      });

      it('serves a request with the client certificate', async () => {
        const reply = await requestOrigin(peer.port, m.client);
        assert.ok('status' in reply, JSON.stringify(reply));
        assert.equal(reply.status, 200);
        assert.match(reply.body, /"app":"ok"/);
      });

      // The point of it all: the originpull edge, with zone-level AOP presenting the client
      // certificate, gets through the enforcing server; without AOP it does not.
      describe('through the originpull edge', () => {
        let edge: TestEdge;
        let builder: ConfigBuilder;
        before(async () => {
          ({ edge, builder } = await edgeFor(peer));
        });
        after(() => edge?.close());

        it('without AOP the edge is refused (525, or the server\'s own 4xx)', async () => {
          const before = app.seen.length;
          const reply = await viaEdge(edge);
          assert.ok(reply.status === 525 || (reply.status >= 400 && reply.status < 500), `status ${reply.status}: ${reply.body.slice(0, 200)}`);
          assert.equal(app.seen.length, before, 'the request reached the application');
        });

        it('with zone-level AOP the edge presents the client certificate and is served', async () => {
          const zone = builder.zones[0];
          builder.cert(zone, 'zone', m.client);
          builder.settings(zone, { aopEnabled: true });
          edge.apply(builder.build());
          const reply = await viaEdge(edge);
          assert.equal(reply.status, 200, reply.body.slice(0, 300));
          assert.match(reply.body, /"app":"ok"/);
        });
      });

      it('verify-origin says it is enforced (exit 0)', async () => {
        const r = await verifyOrigin({ origin: `127.0.0.1:${peer.port}`, hostname: HOSTNAME, cert: m.client.certPem, key: m.client.keyPem, timeoutMs: 5_000 });
        assert.equal(r.verdict, 'enforced', JSON.stringify(r.checks, null, 2));
        assert.equal(r.exitCode, 0);
        assert.deepEqual(
          r.checks.map((c) => c.status),
          ['pass', 'pass', 'pass', 'pass'],
        );
      });
    });

    it('without --upstream, the placeholder configuration runs as it is and answers the client certificate', async () => {
      const peer = await startPeer(spec.peer({ files: FILES(m), snippet: (ctx) => render(spec, 'enforce', ctx, undefined) }));
      try {
        const reply = await requestOrigin(peer.port, m.client);
        assert.ok('status' in reply, JSON.stringify(reply));
        // Apache's placeholder is a DocumentRoot that may not exist here: any HTTP answer will do.
        assert.ok(reply.status < 500, `status ${reply.status}`);
        const refused = await requestOrigin(peer.port);
        assert.ok(!('status' in refused) || refused.status >= 400);
      } finally {
        await peer.stop();
      }
    });
  });
}
