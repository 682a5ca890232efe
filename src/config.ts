// One typed configuration: defaults ← config file (JSON) ← environment ← command-line flags.
// Checked once at start and frozen; nothing reads process.env after this.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Config {
  dataDir: string;
  /** `sqlite:<file>` (default `<dataDir>/originpull.db`) or a `postgres://` URL. */
  store: string;
  apiListen: ListenAddress;
  httpListen: ListenAddress;
  httpsListen: ListenAddress;
  /** Edge health and Prometheus metrics (`/healthz`, `/metrics`). */
  metricsListen: ListenAddress;
  /** Edge worker processes; 0 runs the edge inside the main process. */
  workers: number;
  /** Admin API token to use instead of a generated one. */
  apiToken: string | undefined;
  /** Secret key (hex or base64 of 32 bytes) instead of `<dataDir>/secret.key`. */
  secretKey: string | undefined;
  logLevel: string;
  /** Extra CA bundle (PEM file) trusted for origin certificates in `strict` mode. */
  originCaFile: string | undefined;
  /** Plain-HTTP visitor connections as bare TCP handles where the runtime allows; false keeps net.Socket. */
  edgeTcpHandles: boolean;
  /** Serve edge-CA certificates for proxied names no custom certificate covers (lab use). Default true. */
  edgeCaFallback: boolean;
  timeouts: {
    /** TCP + TLS connect to the origin; past it the visitor gets 522. */
    connectMs: number;
    /** Waiting for the origin's response headers; past it the visitor gets 524. */
    responseMs: number;
    /** Idle upstream keep-alive sockets are closed after this long. */
    keepAliveMs: number;
    /** PostgreSQL: a round trip unanswered this long fails and its connection is dropped. */
    storeQueryMs: number;
    /** PostgreSQL: statements and lock waits are cancelled by the server after this long. */
    storeStatementMs: number;
    /** An upgraded visitor connection (WebSocket) with no byte either way for this long is cut. */
    upgradeIdleMs: number;
    /** A visitor TLS handshake not complete within this long is cut (nginx's ssl_handshake_timeout). */
    visitorHandshakeMs: number;
  };
  deployment: {
    /** A change still pending after this long is reported as `deployment_timed_out`. */
    deadlineMs: number;
    heartbeatIntervalMs: number;
    /** An edge silent for longer is no longer counted as live. */
    heartbeatLapseMs: number;
    /** `?wait=active` requests one API node holds at once; more get 429. */
    maxWaiters: number;
  };
  /** Universal SSL by ACME; null when no directory is configured (no CA is ever contacted). */
  acme: AcmeConfig | null;
  /** Visitor session-ticket keys rotate this often (API nodes); the previous key stays accepted as long again. */
  ticketRotationMs: number;
}

export interface AcmeConfig {
  /** The ACME directory URL (`letsencrypt` and `letsencrypt-staging` are accepted as shortcuts). */
  directoryUrl: string;
  /** Account contact, sent as `mailto:`. */
  email: string | undefined;
  /** PEM file of CA certificates to trust for the directory (a private ACME CA). */
  caFile: string | undefined;
  /** External Account Binding, both or neither. */
  eab: { kid: string; hmacKey: string } | null;
}

/** The public directories the shortcuts name. */
export const ACME_DIRECTORIES: Readonly<Record<string, string>> = Object.freeze({
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
});

function acmeConfig(str: (key: string) => string | undefined): AcmeConfig | null {
  const directory = str('acmeDirectory')?.trim();
  const kid = str('acmeEabKid');
  const hmacKey = str('acmeEabHmacKey');
  if ((kid === undefined) !== (hmacKey === undefined)) throw new ConfigError('ACME external account binding: set both the key id and the HMAC key, or neither');
  if (directory === undefined || directory === '') {
    if (kid !== undefined || str('acmeEmail') !== undefined || str('acmeCaFile') !== undefined) {
      throw new ConfigError('ACME settings given without a directory: set the ACME directory (ORIGINPULL_ACME_DIRECTORY) too');
    }
    return null;
  }
  const directoryUrl = ACME_DIRECTORIES[directory] ?? directory;
  let url: URL;
  try {
    url = new URL(directoryUrl);
  } catch {
    throw new ConfigError(`ACME directory: expected an https:// URL, letsencrypt or letsencrypt-staging, got "${directory}"`);
  }
  if (url.protocol !== 'https:') throw new ConfigError(`ACME directory: expected an https:// URL, got "${directory}"`);
  const email = str('acmeEmail');
  if (email !== undefined && !/^[^@\s]+@[^@\s]+$/.test(email)) throw new ConfigError(`ACME contact e-mail: not an address: "${email}"`);
  return Object.freeze({ directoryUrl, email, caFile: str('acmeCaFile'), eab: kid === undefined ? null : Object.freeze({ kid, hmacKey: hmacKey! }) });
}

export interface ConfigSources {
  flags?: Partial<Record<string, string | number | undefined>>;
  env?: NodeJS.ProcessEnv;
  file?: string;
}

export class ConfigError extends Error {}

export function parseListen(text: string, what: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${what}: expected HOST:PORT (e.g. 127.0.0.1:4000), got "${text}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function positiveInt(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${what}: expected a non-negative integer, got "${String(value)}"`);
  return n;
}

function onOff(value: unknown, what: string): boolean {
  if (value === true || value === 1 || value === '1' || value === 'true' || value === 'on') return true;
  if (value === false || value === 0 || value === '0' || value === 'false' || value === 'off') return false;
  throw new ConfigError(`${what}: expected 1 (on) or 0 (off), got "${String(value)}"`);
}

function atLeastOne(value: unknown, what: string): number {
  const n = positiveInt(value, what);
  if (n === 0) throw new ConfigError(`${what}: expected a positive integer (milliseconds), got 0`);
  return n;
}

const DEFAULTS = {
  dataDir: './data',
  apiListen: '127.0.0.1:4000',
  httpListen: '127.0.0.1:8080',
  httpsListen: '127.0.0.1:8443',
  metricsListen: '127.0.0.1:9145',
  logLevel: 'info',
  edgeTcpHandles: true,
  connectTimeoutMs: 10_000,
  responseTimeoutMs: 100_000,
  keepAliveMs: 60_000,
  storeQueryTimeoutMs: 15_000,
  storeStatementTimeoutMs: 10_000,
  visitorHandshakeTimeoutMs: 10_000,
  deploymentDeadlineMs: 60_000,
  heartbeatIntervalMs: 1_000,
  heartbeatLapseMs: 5_000,
  upgradeIdleTimeoutMs: 100_000,
  deploymentMaxWaiters: 256,
  ticketRotationMs: 3_600_000,
};

/** Env var names, one per option, each documented in the README's configuration table. */
const ENV: Record<string, string> = {
  dataDir: 'ORIGINPULL_DATA_DIR',
  store: 'ORIGINPULL_STORE',
  apiListen: 'ORIGINPULL_API_LISTEN',
  httpListen: 'ORIGINPULL_HTTP_LISTEN',
  httpsListen: 'ORIGINPULL_HTTPS_LISTEN',
  metricsListen: 'ORIGINPULL_METRICS_LISTEN',
  workers: 'ORIGINPULL_WORKERS',
  apiToken: 'ORIGINPULL_API_TOKEN',
  secretKey: 'ORIGINPULL_SECRET_KEY',
  logLevel: 'ORIGINPULL_LOG_LEVEL',
  originCaFile: 'ORIGINPULL_ORIGIN_CA_FILE',
  edgeTcpHandles: 'ORIGINPULL_EDGE_TCP_HANDLES',
  edgeCaFallback: 'ORIGINPULL_EDGE_CA_FALLBACK',
  connectTimeoutMs: 'ORIGINPULL_CONNECT_TIMEOUT_MS',
  responseTimeoutMs: 'ORIGINPULL_RESPONSE_TIMEOUT_MS',
  keepAliveMs: 'ORIGINPULL_KEEPALIVE_MS',
  storeQueryTimeoutMs: 'ORIGINPULL_STORE_QUERY_TIMEOUT_MS',
  storeStatementTimeoutMs: 'ORIGINPULL_STORE_STATEMENT_TIMEOUT_MS',
  visitorHandshakeTimeoutMs: 'ORIGINPULL_VISITOR_HANDSHAKE_TIMEOUT_MS',
  deploymentDeadlineMs: 'ORIGINPULL_DEPLOYMENT_DEADLINE_MS',
  heartbeatIntervalMs: 'ORIGINPULL_HEARTBEAT_INTERVAL_MS',
  heartbeatLapseMs: 'ORIGINPULL_HEARTBEAT_LAPSE_MS',
  upgradeIdleTimeoutMs: 'ORIGINPULL_UPGRADE_IDLE_TIMEOUT_MS',
  acmeDirectory: 'ORIGINPULL_ACME_DIRECTORY',
  acmeEmail: 'ORIGINPULL_ACME_EMAIL',
  acmeCaFile: 'ORIGINPULL_ACME_CA_FILE',
  acmeEabKid: 'ORIGINPULL_ACME_EAB_KID',
  acmeEabHmacKey: 'ORIGINPULL_ACME_EAB_HMAC_KEY',
  deploymentMaxWaiters: 'ORIGINPULL_DEPLOYMENT_MAX_WAITERS',
  ticketRotationMs: 'ORIGINPULL_TICKET_ROTATION_MS',
};

export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const env = sources.env ?? process.env;
  let file: Record<string, unknown> = {};
  const filePath = sources.file ?? env.ORIGINPULL_CONFIG;
  if (filePath) {
    try {
      file = JSON.parse(readFileSync(filePath, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${filePath}: ${(err as Error).message}`, { cause: err });
    }
  }
  const pick = (key: string): unknown => {
    const flag = sources.flags?.[key];
    if (flag !== undefined) return flag;
    const fromEnv = env[ENV[key]];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (file[key] !== undefined) return file[key];
    return (DEFAULTS as Record<string, unknown>)[key];
  };
  const str = (key: string) => {
    const v = pick(key);
    return v === undefined ? undefined : String(v);
  };

  const dataDir = resolve(str('dataDir')!);
  const config: Config = {
    dataDir,
    store: str('store') ?? `sqlite:${join(dataDir, 'originpull.db')}`,
    apiListen: parseListen(str('apiListen')!, 'api listen'),
    httpListen: parseListen(str('httpListen')!, 'http listen'),
    httpsListen: parseListen(str('httpsListen')!, 'https listen'),
    metricsListen: parseListen(str('metricsListen')!, 'metrics listen'),
    workers: pick('workers') === undefined ? Math.max(1, availableParallelism()) : positiveInt(pick('workers'), 'workers'),
    apiToken: str('apiToken'),
    secretKey: str('secretKey'),
    logLevel: str('logLevel')!,
    originCaFile: str('originCaFile'),
    edgeTcpHandles: onOff(pick('edgeTcpHandles'), 'edge TCP handles (ORIGINPULL_EDGE_TCP_HANDLES)'),
    edgeCaFallback: onOff(pick('edgeCaFallback') ?? true, 'edge CA fallback'),
    timeouts: {
      connectMs: positiveInt(pick('connectTimeoutMs'), 'connect timeout'),
      responseMs: positiveInt(pick('responseTimeoutMs'), 'response timeout'),
      keepAliveMs: positiveInt(pick('keepAliveMs'), 'keep-alive timeout'),
      storeQueryMs: atLeastOne(pick('storeQueryTimeoutMs'), 'store query timeout'),
      storeStatementMs: atLeastOne(pick('storeStatementTimeoutMs'), 'store statement timeout'),
      upgradeIdleMs: atLeastOne(pick('upgradeIdleTimeoutMs'), 'upgrade idle timeout'),
      visitorHandshakeMs: atLeastOne(pick('visitorHandshakeTimeoutMs'), 'visitor handshake timeout'),
    },
    deployment: {
      deadlineMs: positiveInt(pick('deploymentDeadlineMs'), 'deployment deadline'),
      heartbeatIntervalMs: positiveInt(pick('heartbeatIntervalMs'), 'heartbeat interval'),
      heartbeatLapseMs: positiveInt(pick('heartbeatLapseMs'), 'heartbeat lapse'),
      maxWaiters: positiveInt(pick('deploymentMaxWaiters'), 'deployment max waiters'),
    },
    acme: acmeConfig(str),
    ticketRotationMs: atLeastOne(pick('ticketRotationMs'), 'ticket rotation'),
  };
  if (!config.store.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(config.store)) {
    throw new ConfigError(`store: expected sqlite:<file> or postgres://…, got "${config.store}"`);
  }
  return Object.freeze(config);
}
