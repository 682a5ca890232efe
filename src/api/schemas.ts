// TypeBox schemas of request bodies and result objects. The same objects validate requests,
// serialize responses (so a field not listed here, such as a private key, can never leak out)
// and feed the OpenAPI document (openapi.ts).
// Tested in test/api/openapi.test.ts and test/api/keys-at-rest.test.ts (no key in any answer).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CERT_STATUSES, SSL_MODES } from '../domain/index.ts';

const DateTime = Type.String({ format: 'date-time', description: 'RFC 3339, UTC' });
const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);

export const CertStatusSchema = Type.Union(
  CERT_STATUSES.map((s) => Type.Literal(s)),
  { description: 'Deployment status, derived from what the edges report they applied' },
);

// ── path parameters ──────────────────────────────────────────────────────────
// Ids are not length-checked: Cloudflare documents maxLength 32 yet issues 36-character UUIDs.
export const ZoneParams = Type.Object({ zone_id: Type.String({ description: 'Zone identifier' }) });
export const ZoneCertParams = Type.Object({ zone_id: Type.String(), certificate_id: Type.String() });
export const ZoneHostnameParams = Type.Object({ zone_id: Type.String(), hostname: Type.String() });
export const ZoneRecordParams = Type.Object({ zone_id: Type.String(), dns_record_id: Type.String() });
export const ZoneSettingParams = Type.Object({ zone_id: Type.String(), setting_id: Type.String() });

// ── certificates ─────────────────────────────────────────────────────────────
export const CertUploadBody = Type.Object({
  certificate: Type.String({ description: 'PEM: the leaf client certificate, then any intermediates' }),
  private_key: Type.String({ description: 'PEM private key (PKCS#1, PKCS#8 or SEC1), not encrypted' }),
});
export type CertUploadBody = Static<typeof CertUploadBody>;

/** `?wait=active` (ours): hold the answer until the edges applied the change, at most the deployment deadline. */
export const WaitQuery = Type.Object({
  wait: Type.Optional(Type.Literal('active', { description: 'originpull extension: wait until every live edge applied the change (at most the deployment deadline), then answer with the status reached' })),
});

/** originpull extension on pending and timed-out answers: the live edges that have not applied the change. */
export const LaggingEdgesSchema = Type.Array(
  Type.Object({
    id: Type.String({ description: 'Edge node id (new at every start)' }),
    name: Type.String({ description: 'The name the edge reports (--node-name, default <hostname>-<pid>)' }),
    applied_version: Type.Integer({ description: 'Config version of the snapshot it serves' }),
  }),
  { description: 'originpull extension, present while the status is pending_* or *_timed_out: live edges that have not applied the change yet' },
);

const certificateFields = {
  id: Type.String(),
  certificate: Type.String({ description: 'PEM of the leaf and its chain' }),
  expires_on: DateTime,
  issuer: Type.String(),
  serial_number: Type.String({ description: 'Decimal' }),
  signature: Type.String({ description: 'e.g. SHA256WithRSA, ECDSAWithSHA256' }),
  status: CertStatusSchema,
  uploaded_on: DateTime,
  // Extensions: useful to match what an origin logs.
  fingerprint_sha256: Type.String({ description: 'originpull extension: SHA-256 of the leaf, hex' }),
  not_before: DateTime,
  lagging_edges: Type.Optional(LaggingEdgesSchema),
  no_live_edge: Type.Optional(Type.Literal(true, { description: 'originpull extension: pending because no edge is live (docs/deployment.md)' })),
};

export const ZoneCertificateSchema = Type.Object({
  ...certificateFields,
  enabled: Type.Boolean({ description: 'Whether zone-level AOP is enabled for the zone' }),
});

export const HostnameCertificateSchema = Type.Object(certificateFields);

export const AopSettingsBody = Type.Object({ enabled: Type.Boolean() });
export const AopSettingsSchema = Type.Object({ enabled: Type.Boolean() });

export const HostnamesPutBody = Type.Object({
  config: Type.Array(
    Type.Object({
      hostname: Type.Optional(Type.String({ maxLength: 255 })),
      cert_id: Type.Optional(Type.String()),
      enabled: Type.Optional(Nullable(Type.Boolean({ description: 'true enables, false disables (no certificate is sent), null removes the association' }))),
    }),
  ),
});
export type HostnamesPutBody = Static<typeof HostnamesPutBody>;

export const AssociationSchema = Type.Object({
  id: Type.Optional(Type.String({ description: 'The certificate id' })),
  hostname: Type.String(),
  cert_id: Type.String(),
  enabled: Nullable(Type.Boolean()),
  status: CertStatusSchema,
  created_at: Type.Optional(DateTime),
  updated_at: Type.Optional(DateTime),
  cert_status: Type.Optional(CertStatusSchema),
  certificate: Type.Optional(Type.String()),
  issuer: Type.Optional(Type.String()),
  signature: Type.Optional(Type.String()),
  serial_number: Type.Optional(Type.String()),
  expires_on: Type.Optional(DateTime),
  cert_uploaded_on: Type.Optional(DateTime),
  cert_updated_at: Type.Optional(DateTime),
  lagging_edges: Type.Optional(LaggingEdgesSchema),
  no_live_edge: Type.Optional(Type.Literal(true, { description: 'originpull extension: pending because no edge is live (docs/deployment.md)' })),
});

export const EffectiveSchema = Type.Object({
  hostname: Type.String(),
  zone_id: Type.String(),
  ssl_mode: Type.Union(SSL_MODES.map((m) => Type.Literal(m))),
  level: Type.Union([Type.Literal('hostname'), Type.Literal('zone'), Type.Literal('global'), Type.Literal('none')]),
  reason: Type.String({ description: 'Machine-readable reason (see domain/aop-resolve.ts)' }),
  explanation: Type.String(),
  proxied: Type.Boolean({ description: 'Whether a DNS record routes this hostname through the edge' }),
  association: Nullable(Type.Object({ cert_id: Type.String(), enabled: Type.Boolean() })),
  certificate: Nullable(
    Type.Object({
      id: Type.String({ description: '`global` for the installation certificate' }),
      fingerprint_sha256: Type.String(),
      expires_on: DateTime,
      status: CertStatusSchema,
      issuer: Type.String(),
      serial_number: Type.String(),
      signature: Type.String(),
    }),
  ),
  deployment: Type.Object(
    {
      required_version: Type.Integer({
        description: 'Config version that made this certificate (and association) effective; 0 for the installation certificate or none',
      }),
      edges: Type.Array(
        Type.Object({
          id: Type.String(),
          name: Type.String(),
          applied_version: Type.Integer({ description: 'Config version of the snapshot the edge serves' }),
          last_heartbeat: DateTime,
          applied: Type.Boolean({ description: 'applied_version ≥ required_version: this edge presents what is shown here' }),
        }),
        { description: 'Every live edge (heartbeat within the lapse)' },
      ),
    },
    { description: 'originpull extension: per-edge state of what this hostname gets' },
  ),
  deferred: Type.Optional(
    Type.Object(
      {
        id: Type.String(),
        fingerprint_sha256: Type.String(),
        not_before: DateTime,
        reason: Type.Literal('not_yet_valid'),
      },
      { description: 'A certificate that would win but is not valid yet: the edges present it from its not_before on, without an API call' },
    ),
  ),
});

// ── zones, accounts, settings ────────────────────────────────────────────────
export const AccountSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  created_on: DateTime,
  settings: Type.Object({}, { additionalProperties: true }),
});

export const ZoneCreateBody = Type.Object({
  name: Type.String({ maxLength: 253 }),
  account: Type.Optional(Type.Object({ id: Type.String() })),
  type: Type.Optional(Type.String()),
});

export const ZoneSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  paused: Type.Boolean(),
  type: Type.String(),
  development_mode: Type.Integer(),
  name_servers: Type.Array(Type.String()),
  original_name_servers: Nullable(Type.Array(Type.String())),
  created_on: DateTime,
  modified_on: DateTime,
  activated_on: DateTime,
  account: Type.Object({ id: Type.String(), name: Type.String() }),
  meta: Type.Object({}, { additionalProperties: true }),
});

export const ZoneDeletedSchema = Type.Object({ id: Type.String() });

/** `security_header`'s value; every other setting's is a string. */
export const SecurityHeaderValue = Type.Object({
  strict_transport_security: Type.Object({
    enabled: Type.Boolean(),
    max_age: Type.Integer(),
    include_subdomains: Type.Boolean(),
    preload: Type.Boolean(),
    nosniff: Type.Boolean(),
  }),
});

export const SettingSchema = Type.Object({
  id: Type.String(),
  value: Type.Union([Type.String(), SecurityHeaderValue]),
  editable: Type.Boolean(),
  modified_on: Nullable(DateTime),
});

export const SettingPatchBody = Type.Object({
  value: Type.Unknown({
    description:
      'ssl: off|flexible|full|strict; tls_client_auth, always_use_https, http2, websockets: on|off; min_tls_version: 1.2|1.3; ' +
      'tls_1_3: on|off|zrt; security_header: {strict_transport_security: {enabled, max_age, include_subdomains, preload, nosniff}}',
  }),
  id: Type.Optional(Type.String()),
});

// ── DNS records ──────────────────────────────────────────────────────────────
const Port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });

const dnsRecordInputFields = {
  type: Type.String({ description: 'A, AAAA or CNAME' }),
  name: Type.String({ maxLength: 255, description: 'Fully qualified, relative (`www`), `@` for the apex, or a wildcard `*.example.com`' }),
  content: Type.String({ maxLength: 255, description: 'The origin: IPv4 (A), IPv6 (AAAA) or host name (CNAME)' }),
  proxied: Type.Optional(Type.Boolean({ description: 'Defaults to true: originpull only serves proxied records' })),
  ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400, description: '1 means automatic' })),
  comment: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  origin_http_port: Type.Optional(Port('originpull extension: origin port for plain HTTP (default 80)')),
  origin_https_port: Type.Optional(Port('originpull extension: origin port for TLS (default 443)')),
  origin_sni: Type.Optional(
    Nullable(Type.String({ maxLength: 253, description: 'originpull extension: TLS server name sent to the origin and verified in strict (default: the visitor host name)' })),
  ),
  origin_host_header: Type.Optional(
    Nullable(Type.String({ maxLength: 259, description: 'originpull extension: Host header sent to the origin, host[:port] (default: the visitor\'s)' })),
  ),
};

export const DnsRecordBody = Type.Object(dnsRecordInputFields);
export type DnsRecordBody = Static<typeof DnsRecordBody>;
export const DnsRecordPatchBody = Type.Partial(Type.Object(dnsRecordInputFields));
export type DnsRecordPatchBody = Static<typeof DnsRecordPatchBody>;

export const DnsRecordSchema = Type.Object({
  id: Type.String(),
  zone_id: Type.String(),
  zone_name: Type.String(),
  name: Type.String(),
  type: Type.String(),
  content: Type.String(),
  proxiable: Type.Boolean(),
  proxied: Type.Boolean(),
  ttl: Type.Integer(),
  locked: Type.Boolean(),
  comment: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  meta: Type.Object({}, { additionalProperties: true }),
  settings: Type.Object({}, { additionalProperties: true }),
  origin_http_port: Type.Integer(),
  origin_https_port: Type.Integer(),
  origin_sni: Nullable(Type.String()),
  origin_host_header: Nullable(Type.String()),
  created_on: DateTime,
  modified_on: DateTime,
});

export const DnsListQuery = Type.Object({
  name: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  page: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
  per_page: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
});

// ── tokens ───────────────────────────────────────────────────────────────────
export const TokenCreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 120 }),
  permission: Type.Optional(Type.Union([Type.Literal('read'), Type.Literal('edit')], { description: 'Default read' })),
  zones: Type.Optional(Nullable(Type.Array(Type.String(), { description: 'Zone ids this token may touch; omit or null for every zone' }))),
});
export type TokenCreateBody = Static<typeof TokenCreateBody>;

export const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  permission: Type.Union([Type.Literal('read'), Type.Literal('edit')]),
  zones: Nullable(Type.Array(Type.String())),
  admin: Type.Boolean(),
  issued_on: DateTime,
  modified_on: DateTime,
  value: Type.Optional(Type.String({ description: 'The secret, only in the answer to its creation' })),
});

// Beyond Cloudflare's {id, status}: what the token may do, so a client (the dashboard) can
// disable what it cannot do before trying.
export const TokenVerifySchema = Type.Object({
  id: Type.String(),
  status: Type.String(),
  permission: Type.Union([Type.Literal('read'), Type.Literal('edit')]),
  zones: Type.Union([Type.Array(Type.String()), Type.Null()]),
  admin: Type.Boolean(),
});
export const TokenParams = Type.Object({ token_id: Type.String() });
