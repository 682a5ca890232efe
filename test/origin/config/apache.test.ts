// origin-config --server apache, run for real: SSLVerifyClient optional (log) and require (enforce).
import { apachePeer } from '../../helpers/peers.ts';
import { originSuite } from './origin-suite.ts';

originSuite({
  server: 'apache',
  peer: apachePeer,
  log: { file: 'aop.log' },
  unverified: (log) => /"GET \/ HTTP\/1\.1" 200 client_verify=NONE /.test(log),
  verified: (log) => /"GET \/ HTTP\/1\.1" 200 client_verify=SUCCESS client_dn="CN=edge\.example\.test"/.test(log),
});
