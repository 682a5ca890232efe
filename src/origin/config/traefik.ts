// Traefik: a file-provider dynamic configuration with a TLS option whose clientAuth names the CA
// (caFiles) and the policy (clientAuthType), attached to the router that serves the origin.
// Traefik has no Debian package; the keys follow Traefik's documented configuration reference.
import { commentBlock, headerLines, parseListen, parseUpstream, type OriginConfigInput } from './types.ts';
import { toToml, toYaml, type Table } from './serialize.ts';

/** Traefik's clientAuthType values (docs: "https/tls" → Client Authentication). */
export const TRAEFIK_CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;

export const TRAEFIK_TLS_OPTION = 'originpull-aop';
export const TRAEFIK_ROUTER = 'originpull-aop';
export const TRAEFIK_SERVICE = 'originpull-app';
export const TRAEFIK_MIDDLEWARE = 'originpull-client-cert-info';
export const TRAEFIK_ENTRYPOINT = 'websecure';

export type TraefikFormat = 'yaml' | 'toml';

/** The dynamic configuration as data; the unit test checks it against Traefik's schema. */
export function traefikDynamicConfig(input: OriginConfigInput): Table {
  const up = input.upstream ? parseUpstream(input.upstream) : undefined;
  return {
    http: {
      routers: {
        [TRAEFIK_ROUTER]: {
          entryPoints: [TRAEFIK_ENTRYPOINT],
          rule: input.serverName ? `Host(\`${input.serverName}\`)` : 'PathPrefix(`/`)',
          service: TRAEFIK_SERVICE,
          middlewares: [TRAEFIK_MIDDLEWARE],
          tls: { options: TRAEFIK_TLS_OPTION },
        },
      },
      middlewares: {
        [TRAEFIK_MIDDLEWARE]: {
          // Tells the application who the verified client certificate was issued to.
          passTLSClientCert: { info: { subject: { commonName: true }, issuer: { commonName: true }, serialNumber: true } },
        },
      },
      services: {
        [TRAEFIK_SERVICE]: { loadBalancer: { servers: [{ url: up ? `${up.scheme}://${up.authority}` : 'http://127.0.0.1:8080' }] } },
      },
    },
    tls: {
      certificates: [{ certFile: input.certFile, keyFile: input.keyFile }],
      options: {
        [TRAEFIK_TLS_OPTION]: {
          clientAuth: {
            caFiles: [input.caFile],
            clientAuthType: input.phase === 'enforce' ? 'RequireAndVerifyClientCert' : 'VerifyClientCertIfGiven',
          },
        },
      },
    },
  };
}

export function traefikConfig(input: OriginConfigInput, format: TraefikFormat = 'yaml'): string {
  const port = parseListen(input.listen).port;
  const file = `/etc/traefik/dynamic/originpull-aop.${format === 'yaml' ? 'yml' : 'toml'}`;
  const staticPart =
    format === 'yaml'
      ? [
          'entryPoints:',
          `  ${TRAEFIK_ENTRYPOINT}:`,
          `    address: ":${port}"`,
          'providers:',
          '  file:',
          `    filename: "${file}"`,
          'accessLog:',
          '  filePath: "' + input.logFile + '"',
          '  format: json',
        ]
      : [
          `[entryPoints.${TRAEFIK_ENTRYPOINT}]`,
          `  address = ":${port}"`,
          '[providers.file]',
          `  filename = "${file}"`,
          '[accessLog]',
          `  filePath = "${input.logFile}"`,
          '  format = "json"',
        ];
  const header = commentBlock([
    ...headerLines('Traefik', input, `Save it as ${file} (dynamic configuration, file provider).`),
    '',
    'The static configuration needs an entry point, the file provider and an access log:',
    ...staticPart.map((l) => '  ' + l),
    'Each JSON access-log line carries TLSClientSubject (Traefik 3) when a verified client certificate was presented.',
    '',
    `tls.options.${TRAEFIK_TLS_OPTION}.clientAuth: caFiles is the CA that signs the edge's client certificates;`,
    input.phase === 'enforce'
      ? 'clientAuthType RequireAndVerifyClientCert (enforce) fails the handshake without a valid certificate.'
      : 'clientAuthType VerifyClientCertIfGiven (log) verifies a certificate when sent and serves requests without one.',
    `tls.certificates: the origin's own certificate and key (what the edge sees, and verifies in Full (strict)).`,
    ...(input.upstream ? [] : [`services.${TRAEFIK_SERVICE}: replace the placeholder URL with your application.`]),
  ]);
  const data = traefikDynamicConfig(input);
  return `${header}\n${format === 'yaml' ? toYaml(data) : toToml(data).replace(/^\n/, '')}`;
}
