// Caddy: a site block whose `tls` directive carries `client_auth { mode …; trusted_ca_cert_file … }`,
// with an access log (JSON; it names the client certificate's subject when one was verified), after
// a global options block that turns off the HTTP->HTTPS redirects. Tabs, as `caddy fmt` wants them.
import { commentBlock, headerLines, parseListen, parseUpstream, type OriginConfigInput } from './types.ts';

function q(value: string): string {
  return /^[^\s{}"#]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The site address. On 443 a named site is its bare name. On another port it is the whole port
 * (`https://:PORT`, the hostname checked inside): Caddy before 2.7.5 files the site's logger under
 * "name:PORT" and looks it up by the Host header, which the edge sends without the port, so a named
 * site on another port would serve the edge but never log it.
 */
function siteAddress(serverName: string | undefined, port: number): string {
  return serverName && port === 443 ? serverName : `https://:${port}`;
}

export function caddyConfig(input: OriginConfigInput): string {
  const listen = parseListen(input.listen);
  const enforce = input.phase === 'enforce';
  const site = siteAddress(input.serverName, listen.port);
  const hostCheck = input.serverName !== undefined && site !== input.serverName;
  const out: string[] = [];
  out.push(
    commentBlock(
      headerLines(
        'Caddy',
        input,
        'Put both blocks in your Caddyfile, then: caddy validate --config /etc/caddy/Caddyfile && systemctl reload caddy. Caddy takes a single global options block, first in the file: if yours has one, add the auto_https line to it and leave this one out.',
      ),
    ),
  );
  out.push(`
# Global options.
{
\t# The site below has its own certificate: no HTTP->HTTPS redirects, so Caddy binds only the TLS
\t# port (automatic HTTPS would also bind port 80 for them).
\tauto_https disable_redirects
}

# The site the edge connects to over TLS (SSL mode Full or Full (strict) at the edge).
${site} {
`);
  if (listen.host) out.push(`\t# Listen on this address only.\n\tbind ${listen.host.replace(/^\[|\]$/g, '')}\n\n`);
  out.push(`\t# The origin's own certificate and key: what the edge sees (and verifies in Full (strict)).
\ttls ${q(input.certFile)} ${q(input.keyFile)} {
\t\tclient_auth {
`);
  out.push(
    enforce
      ? `\t\t\t# enforce: the TLS handshake fails without a client certificate signed by the CA below.
\t\t\tmode require_and_verify
`
      : `\t\t\t# log: request a client certificate, verify it when sent, but serve requests without one.
\t\t\t# (A certificate from another CA still fails the handshake.)
\t\t\tmode verify_if_given
`,
  );
  out.push(`\t\t\t# The CA that signs the edge's client certificates (Caddy 2.8+ also spells it "trust_pool file …").
\t\t\ttrusted_ca_cert_file ${q(input.caFile)}
\t\t}
\t}

\t# One JSON line per request; request.tls.client_common_name and client_serial appear only when
\t# a verified client certificate was presented.
\tlog {
\t\toutput file ${q(input.logFile)}
\t\tformat json
\t}

`);
  if (hostCheck) {
    out.push(`\t# Only the hostname this origin serves (the site takes the whole port, so that every request is logged).
\t@elsewhere not host ${input.serverName}
\trespond @elsewhere "not served here" 421

`);
  }
  if (input.upstream) {
    const up = parseUpstream(input.upstream);
    out.push(`\t# The application behind this origin, told who the client certificate was issued to.
\treverse_proxy ${up.scheme === 'https' ? 'https://' : ''}${up.authority} {
\t\theader_up X-Client-Subject "{http.request.tls.client.subject}"
\t\theader_up X-Client-Fingerprint "{http.request.tls.client.fingerprint}"
\t}
`);
  } else {
    out.push(`\t# Placeholder answer: replace with your own file_server or reverse_proxy.
\trespond "origin ok" 200
`);
  }
  out.push('}\n');
  return out.join('');
}
