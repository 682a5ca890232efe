// One entry for the CLI: pick the generator for the server, fill the defaults a server needs.
import { apacheConfig } from './apache.ts';
import { caddyConfig } from './caddy.ts';
import { haproxyConfig } from './haproxy.ts';
import { nginxConfig } from './nginx.ts';
import { traefikConfig, type TraefikFormat } from './traefik.ts';
import type { OriginConfigInput, OriginServer, Phase } from './types.ts';

/** Where each server's files usually live on Debian, for the placeholders. */
const DEFAULTS: Record<OriginServer, { cert: string; key: string; log: string }> = {
  nginx: { cert: '/etc/nginx/certs/origin.crt', key: '/etc/nginx/certs/origin.key', log: '/var/log/nginx/originpull-aop.log' },
  apache: { cert: '/etc/apache2/certs/origin.crt', key: '/etc/apache2/certs/origin.key', log: '${APACHE_LOG_DIR}/originpull-aop.log' },
  haproxy: { cert: '/etc/haproxy/certs/origin.pem', key: '/etc/haproxy/certs/origin.pem.key', log: '' },
  caddy: { cert: '/etc/caddy/certs/origin.crt', key: '/etc/caddy/certs/origin.key', log: '/var/log/caddy/originpull-aop.log' },
  traefik: { cert: '/etc/traefik/certs/origin.crt', key: '/etc/traefik/certs/origin.key', log: '/var/log/traefik/access.log' },
};

export interface RenderOptions {
  server: OriginServer;
  phase: Phase;
  caFile: string;
  caSource?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
  listen?: string;
  upstream?: string;
  logFile?: string;
  /** Traefik only. */
  format?: TraefikFormat;
}

/** HAProxy writes no files of its own: its log lines go to a syslog target, stdout or stderr. */
export const HAPROXY_LOG_FILE_REFUSAL =
  '--log-file: HAProxy cannot write a log file itself; it sends each line to the "log" target of its global section ' +
  '(Debian: "log /dev/log local0", read them with journalctl -t haproxy, or in /var/log/haproxy.log when rsyslog is installed). Leave out --log-file.';

export function originConfigInput(opts: RenderOptions): OriginConfigInput {
  if (opts.server === 'haproxy' && opts.logFile !== undefined) throw new Error(HAPROXY_LOG_FILE_REFUSAL);
  const d = DEFAULTS[opts.server];
  const certFile = opts.certFile ?? d.cert;
  return {
    phase: opts.phase,
    caFile: opts.caFile,
    caSource: opts.caSource ?? `your CA, ${opts.caFile}`,
    certFile,
    // HAProxy's convention: the key beside the certificate as "<crt>.key".
    keyFile: opts.keyFile ?? (opts.server === 'haproxy' ? `${certFile}.key` : d.key),
    serverName: opts.serverName,
    listen: opts.listen ?? '443',
    listenExplicit: opts.listen !== undefined,
    upstream: opts.upstream,
    logFile: opts.logFile ?? d.log,
  };
}

/** The configuration text for one server and phase. */
export function renderOriginConfig(opts: RenderOptions): string {
  const input = originConfigInput(opts);
  switch (opts.server) {
    case 'nginx':
      return nginxConfig(input);
    case 'apache':
      return apacheConfig(input);
    case 'haproxy':
      return haproxyConfig(input);
    case 'caddy':
      return caddyConfig(input);
    case 'traefik':
      return traefikConfig(input, opts.format ?? 'yaml');
  }
}
