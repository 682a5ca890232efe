// origin-config --server caddy, run for real: client_auth mode verify_if_given (log) and
// require_and_verify (enforce). The access log is JSON; a verified certificate adds client_common_name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderOriginConfig } from '../../../src/origin/index.ts';
import { caddyPeer, listeningPorts, missingPeer, startPeer } from '../../helpers/peers.ts';
import { HOSTNAME, makeMaterials, originSuite, requestOrigin } from './origin-suite.ts';

interface CaddyLine {
  status?: number;
  request?: { tls?: { server_name?: string; client_common_name?: string } };
}

function lines(log: string): CaddyLine[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as CaddyLine);
}

originSuite({
  server: 'caddy',
  peer: caddyPeer,
  log: { file: 'aop.log' },
  unverified: (log) => lines(log).some((l) => l.status === 200 && l.request?.tls?.server_name === 'origin.test' && l.request.tls.client_common_name === undefined),
  verified: (log) => lines(log).some((l) => l.status === 200 && l.request?.tls?.client_common_name === 'edge.example.test'),
});

// Automatic HTTPS also binds port 80 for HTTP->HTTPS redirects unless told not to: the printed
// configuration must make Caddy listen on the TLS port it names and nothing else. The peer keeps
// automatic HTTPS on here (the printed global options replace its usual `auto_https off`).
describe('origin-config --server caddy binds only the TLS port', { skip: missingPeer(caddyPeer({ snippet: () => '' })) }, () => {
  it('phase log on a port other than 443: listens on that port alone', async () => {
    const m = await makeMaterials();
    const peer = await startPeer(
      caddyPeer({
        files: { 'client-ca.pem': m.ca.certPem, 'origin.crt': m.server.certPem, 'origin.crt.key': m.server.keyPem },
        snippet: (ctx) =>
          renderOriginConfig({
            server: 'caddy',
            phase: 'log',
            caFile: ctx.path('client-ca.pem'),
            certFile: ctx.path('origin.crt'),
            keyFile: ctx.path('origin.crt.key'),
            serverName: HOSTNAME,
            listen: `127.0.0.1:${ctx.port}`,
            logFile: ctx.path('aop.log'),
          }),
      }),
    );
    try {
      assert.doesNotMatch(peer.readFile('Caddyfile'), /auto_https off/);
      assert.deepEqual(listeningPorts(peer.pid), [peer.port]);
      const reply = await requestOrigin(peer.port);
      assert.ok('status' in reply && reply.status === 200, JSON.stringify(reply));
    } finally {
      await peer.stop();
    }
  });
});
