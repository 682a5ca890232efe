// Apache httpd with mod_ssl: SSLCACertificateFile + SSLVerifyClient + SSLVerifyDepth 1 (Cloudflare's
// Apache examples), with a LogFormat that records %{SSL_CLIENT_VERIFY}x for the "log" phase.
import { commentBlock, headerLines, parseListen, parseUpstream, type OriginConfigInput } from './types.ts';

function q(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

export function apacheConfig(input: OriginConfigInput): string {
  const listen = parseListen(input.listen);
  const enforce = input.phase === 'enforce';
  const modules = input.upstream ? 'ssl headers proxy proxy_http' : 'ssl';
  const out: string[] = [];
  out.push(
    commentBlock([
      ...headerLines(
        'Apache',
        input,
        `Save it as /etc/apache2/sites-available/originpull-aop.conf, then: a2enmod ${modules} && a2ensite originpull-aop && apachectl configtest && apachectl graceful`,
      ),
    ]),
  );
  if (input.listenExplicit) {
    out.push(`\n# Open the TLS port the edge connects to (drop this line if ports.conf already listens there).\nListen ${listen.host ? `${listen.host}:${listen.port}` : listen.port}\n`);
  }
  out.push(`
# One log line per request with the client-certificate verification result: SUCCESS, NONE (no certificate
# sent), GENEROUS or FAILED:<reason>, and the certificate's subject when there was one.
LogFormat "%h %t \\"%r\\" %>s client_verify=%{SSL_CLIENT_VERIFY}x client_dn=\\"%{SSL_CLIENT_S_DN}x\\"" originpull_aop

# The virtual host the edge connects to (SSL mode Full or Full (strict) at the edge).
<VirtualHost ${listen.host ?? '*'}:${listen.port}>
`);
  if (input.serverName) out.push(`    # The hostname this origin serves.\n    ServerName ${input.serverName}\n`);
  out.push(`
    # TLS with the origin's own certificate and key: what the edge sees (and verifies in Full (strict)).
    SSLEngine on
    SSLCertificateFile ${q(input.certFile)}
    SSLCertificateKeyFile ${q(input.keyFile)}

    # The CA that signs the edge's client certificates; only certificates issued by it are accepted.
    SSLCACertificateFile ${q(input.caFile)}
    # The edge's certificate is signed directly by that CA: a chain of depth 1.
    SSLVerifyDepth 1
`);
  out.push(
    enforce
      ? `    # enforce: the TLS handshake fails (alert "certificate required" or "unknown CA") without a valid
    # client certificate, so the request never reaches the application.
    SSLVerifyClient require
`
      : `    # log: request a client certificate, verify it when sent, but serve requests without one.
    # (A certificate from another CA still fails the handshake.)
    SSLVerifyClient optional
`,
  );
  out.push(`
    # Where the verification results go (format defined above).
    CustomLog ${q(input.logFile)} originpull_aop
`);
  if (input.upstream) {
    const up = parseUpstream(input.upstream);
    const target = `${up.scheme}://${up.authority}/`;
    out.push(`
    # Pass the verification result to the application, which can check it too.
    RequestHeader set X-Client-Verify "%{SSL_CLIENT_VERIFY}s"
    RequestHeader set X-Client-DN "%{SSL_CLIENT_S_DN}s"
    # The application behind this origin.
    ProxyPreserveHost On
    ProxyPass / ${target}
    ProxyPassReverse / ${target}
`);
  } else {
    out.push(`
    # Your site's content: replace with your own DocumentRoot or ProxyPass.
    DocumentRoot /var/www/html
`);
  }
  out.push('</VirtualHost>\n');
  return out.join('');
}
