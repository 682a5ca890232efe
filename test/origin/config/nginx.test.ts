// origin-config --server nginx, run for real: ssl_verify_client optional (log) and on (enforce).
import { nginxPeer } from '../../helpers/peers.ts';
import { originSuite } from './origin-suite.ts';

originSuite({
  server: 'nginx',
  peer: nginxPeer,
  log: { file: 'aop.log' },
  unverified: (log) => /"GET \/ HTTP\/1\.1" 200 client_verify=NONE /.test(log),
  verified: (log) => /"GET \/ HTTP\/1\.1" 200 client_verify=SUCCESS client_fp=[0-9a-f]{40} client_dn="CN=edge\.example\.test"/.test(log),
});
