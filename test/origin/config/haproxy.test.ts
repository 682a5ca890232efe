// origin-config --server haproxy, run for real: verify optional (log) and verify required (enforce).
// The test's global section logs to stdout, where the generated log-format lines appear.
import { haproxyPeer } from '../../helpers/peers.ts';
import { originSuite } from './origin-suite.ts';

originSuite({
  server: 'haproxy',
  peer: haproxyPeer,
  log: 'stdout',
  unverified: (log) => /200 "GET \/ HTTP\/1\.1" ssl_c_used=0 /.test(log),
  verified: (log) => /200 "GET \/ HTTP\/1\.1" ssl_c_used=1 ssl_c_verify=0 ssl_c_s_dn="\/CN=edge\.example\.test"/.test(log),
});
