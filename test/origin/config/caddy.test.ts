// origin-config --server caddy, run for real: client_auth mode verify_if_given (log) and
// require_and_verify (enforce). The access log is JSON; a verified certificate adds client_common_name.
import { caddyPeer } from '../../helpers/peers.ts';
import { originSuite } from './origin-suite.ts';

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
