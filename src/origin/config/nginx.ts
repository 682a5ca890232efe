// nginx: ssl_client_certificate + ssl_verify_client (Cloudflare's NGINX examples), with a log_format
// that records $ssl_client_verify so the "log" phase shows what the edge presented.
import { commentBlock, headerLines, parseListen, parseUpstream, type OriginConfigInput } from './types.ts';

/** Quotes a value for nginx when it holds characters nginx would split on. */
function q(value: string): string {
  return /^[^\s;'"{}$\\]+$/.test(value) ? value : `"${value.replace(/(["\\$])/g, '\\$1')}"`;
}

export function nginxConfig(input: OriginConfigInput): string {
  const listen = parseListen(input.listen);
  const enforce = input.phase === 'enforce';
  const out: string[] = [];
  out.push(
    commentBlock(
      headerLines('nginx', input, 'Place it inside http { }, e.g. as /etc/nginx/conf.d/originpull-aop.conf, then: nginx -t && nginx -s reload'),
    ),
  );
  out.push(
    `\n# One log line per request with the client-certificate verification result: SUCCESS, NONE (no certificate sent)
# or FAILED:<reason>, and the certificate's SHA-1 fingerprint and subject when there was one.
log_format originpull_aop '$remote_addr [$time_local] "$request" $status '
                          'client_verify=$ssl_client_verify client_fp=$ssl_client_fingerprint '
                          'client_dn="$ssl_client_s_dn"';

server {
    # The TLS port the edge connects to (SSL mode Full or Full (strict) at the edge).
    listen ${listen.host ? `${listen.host}:${listen.port}` : listen.port} ssl;
`,
  );
  if (input.serverName) out.push(`    # The hostname(s) this origin serves.\n    server_name ${q(input.serverName)};\n`);
  out.push(`
    # The origin's own certificate and key: what the edge sees (and verifies in Full (strict)).
    ssl_certificate     ${q(input.certFile)};
    ssl_certificate_key ${q(input.keyFile)};
    # TLS 1.3 as well (nginx before 1.23.4 leaves it out by default).
    ssl_protocols TLSv1.2 TLSv1.3;

    # The CA that signs the edge's client certificates; only certificates issued by it are accepted.
    ssl_client_certificate ${q(input.caFile)};
    # The edge's certificate is signed directly by that CA: a chain of depth 1.
    ssl_verify_depth 1;
`);
  out.push(
    enforce
      ? `    # enforce: a request without a valid client certificate gets 400 "No required SSL certificate was sent"
    # (or "The SSL certificate error" for one from another CA) and never reaches the application.
    ssl_verify_client on;
`
      : `    # log: request a client certificate, verify it when sent, but serve requests without one.
    # (A certificate from another CA is still refused with 400 "The SSL certificate error".)
    ssl_verify_client optional;
`,
  );
  out.push(`
    # Where the verification results go (format defined above).
    access_log ${q(input.logFile)} originpull_aop;

    location / {
`);
  if (input.upstream) {
    const up = parseUpstream(input.upstream);
    out.push(`        # Pass the verification result to the application, which can check it too.
        proxy_set_header X-Client-Verify $ssl_client_verify;
        proxy_set_header X-Client-Fingerprint $ssl_client_fingerprint;
        proxy_set_header Host $host;
        # The application behind this origin.
        proxy_pass ${up.scheme}://${up.authority};
`);
  } else {
    out.push(`        # Placeholder answer: replace with your own root/proxy_pass.
        default_type text/plain;
        return 200 "origin ok, client certificate: $ssl_client_verify\\n";
`);
  }
  out.push('    }\n}\n');
  return out.join('');
}
