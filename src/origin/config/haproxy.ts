// HAProxy: `bind … ssl crt … ca-file … verify optional|required`, with a log-format that records
// %[ssl_c_used] and %[ssl_c_verify] for the "log" phase.
import { commentBlock, headerLines, parseListen, parseUpstream, type OriginConfigInput } from './types.ts';

function q(value: string): string {
  return /^[^\s#'"\\]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

export function haproxyConfig(input: OriginConfigInput): string {
  const listen = parseListen(input.listen);
  const enforce = input.phase === 'enforce';
  // HAProxy reads the key from the certificate file itself or from "<crt>.key" beside it.
  const keyBeside = input.keyFile === input.certFile || input.keyFile === `${input.certFile}.key`;
  const out: string[] = [];
  const where = 'Append it to /etc/haproxy/haproxy.cfg (its global and defaults sections stay), then: haproxy -c -f /etc/haproxy/haproxy.cfg && systemctl reload haproxy';
  const keyNote = keyBeside
    ? []
    : ['', `HAProxy reads the private key from the certificate file or from "<crt>.key"; put it there first:`, `  cp ${input.keyFile} ${input.certFile}.key`];
  out.push(commentBlock([...headerLines('HAProxy', input, where), ...keyNote]));
  out.push(`
frontend originpull_aop
    mode http
    # The TLS port the edge connects to, with the origin's own certificate (what the edge sees, and
    # verifies in Full (strict)) and the CA that signs the edge's client certificates.
`);
  out.push(
    enforce
      ? `    # enforce: "verify required" fails the TLS handshake without a valid client certificate.
    bind ${listen.host ?? ''}:${listen.port} ssl crt ${q(input.certFile)} ca-file ${q(input.caFile)} verify required
`
      : `    # log: "verify optional" requests a client certificate, verifies it when sent, and lets requests
    # without one through. (A certificate from another CA still fails the handshake.)
    bind ${listen.host ?? ''}:${listen.port} ssl crt ${q(input.certFile)} ca-file ${q(input.caFile)} verify optional
`,
  );
  out.push(`
    # Log through the global section's "log" target, one line per request with ssl_c_used (1 = a
    # client certificate was sent) and ssl_c_verify (0 = it verified). HAProxy writes no file itself:
    # on Debian the target is /dev/log, so read the lines with "journalctl -t haproxy", or in
    # /var/log/haproxy.log when rsyslog is installed.
    log global
    log-format "%ci:%cp [%tr] %ft %ST %{+Q}r ssl_c_used=%[ssl_c_used] ssl_c_verify=%[ssl_c_verify] ssl_c_s_dn=%{+Q}[ssl_c_s_dn]"
`);
  if (input.serverName) {
    out.push(`    # Only the hostname this origin serves.\n    http-request deny deny_status 421 unless { req.hdr(host),field(1,:) -i ${input.serverName} }\n`);
  }
  if (input.upstream) {
    const up = parseUpstream(input.upstream);
    out.push(`    # Pass the verification result to the application, which can check it too.
    http-request set-header X-Client-Cert-Used %[ssl_c_used]
    http-request set-header X-Client-Verify %[ssl_c_verify]
    default_backend originpull_app

backend originpull_app
    mode http
    # The application behind this origin.
    server app ${up.authority}${up.scheme === 'https' ? ' ssl verify none' : ''}
`);
  } else {
    out.push(`    # Placeholder answer: replace with your own use_backend/default_backend.
    http-request return status 200 content-type text/plain string "origin ok"
`);
  }
  return out.join('');
}
