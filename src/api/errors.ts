// Every failure the API answers, in one catalogue: v4 code, HTTP status, default message.
// Cloudflare documents only a few codes (7003, 10000, 1061, 6007, 81044, 81053 and the upload
// pipeline's 1002/2100/2101/2106); the rest are ours, all ≥ 1000.
// Certificate upload failures carry the domain's codes (domain/cert-validate.ts), always 400.
import { ConflictError, InUseError, LimitError, NotFoundError, StoreUnavailableError } from '../store/index.ts';
import { CERT_ERROR_CODES } from '../domain/index.ts';

export interface ErrorDef {
  code: number;
  status: number;
  message: string;
}

function def(code: number, status: number, message: string): ErrorDef {
  return { code, status, message };
}

export const API_ERRORS = {
  // ── transport and request shape ──────────────────────────────────────────
  noRoute: def(7003, 404, 'No route for the URI'),
  methodNotAllowed: def(7001, 405, 'Method not allowed for this route'),
  malformedJson: def(6007, 400, 'Malformed JSON in request body'),
  invalidRequest: def(1004, 400, 'Invalid request'),
  /** Bodies over 64 KiB: 413 (not 400) so clients can tell size from content. */
  bodyTooLarge: def(1013, 413, 'Request body is too large (the limit is 64 KiB)'),
  unsupportedMediaType: def(1015, 415, 'Unsupported Content-Type: send application/json'),
  /** `?wait=active` over the API node's cap on waiting requests (refused before anything is written). */
  tooManyWaiters: def(1016, 429, 'Too many requests are waiting for deployments'),
  internal: def(10001, 500, 'Internal server error'),
  // ── authentication and authorization ─────────────────────────────────────
  authentication: def(10000, 401, 'Authentication error'),
  forbidden: def(10000, 403, 'Forbidden'),
  // ── resources ────────────────────────────────────────────────────────────
  accountNotFound: def(1100, 404, 'Account not found'),
  zoneNotFound: def(1101, 404, 'Zone not found'),
  invalidZoneName: def(1102, 400, 'Invalid zone name'),
  zoneExists: def(1061, 409, 'A zone with this name already exists'),
  /** A name belongs to the most specific zone that exists: a new zone may not take names an enclosing zone's records use. */
  zoneNamesInUse: def(1103, 409, 'Records of an enclosing zone use names of this zone'),
  dnsRecordNotFound: def(81044, 404, 'Record does not exist'),
  dnsRecordExists: def(81053, 409, 'A record with that host already exists'),
  invalidDnsRecord: def(1111, 400, 'Invalid DNS record'),
  unknownSetting: def(1120, 400, 'Unknown zone setting'),
  invalidSettingValue: def(1121, 400, 'Invalid value for zone setting'),
  conflictingSettings: def(1122, 400, 'Conflicting zone settings'),
  certificateNotFound: def(1130, 404, 'Certificate not found'),
  certificateExists: def(1220, 409, 'This certificate has already been uploaded to this zone'),
  certificateLimit: def(1131, 400, 'Certificate limit reached'),
  certificateInUse: def(1132, 409, 'Certificate is still associated with hostnames'),
  /** The upload validator's notForClientAuth (domain/cert-validate.ts), listed here with its status. */
  certificateNotForClientAuth: def(CERT_ERROR_CODES.notForClientAuth, 400, 'The certificate cannot authenticate a TLS client (extended key usage without clientAuth)'),
  associationNotFound: def(1140, 404, 'No certificate is associated with this hostname'),
  associationLimit: def(1141, 400, 'Association limit reached'),
  invalidHostname: def(1142, 400, 'Invalid hostname'),
  hostnameInChildZone: def(1144, 400, 'The hostname belongs to a more specific zone'),
  /** Associating a certificate before its not_before would have origins refuse the hostname's pulls. */
  certificateNotYetValid: def(1143, 400, 'The certificate is not valid yet'),
  tokenNotFound: def(1150, 404, 'Token not found'),
  invalidToken: def(1151, 400, 'Invalid token request'),
  adminTokenProtected: def(1152, 409, 'The admin token cannot be deleted'),
  pkiMissing: def(1160, 503, 'The installation PKI has not been created yet'),
  storeUnavailable: def(1161, 503, 'The configuration store is unavailable; retry shortly'),
  certificatePackNotFound: def(1401, 404, 'Certificate pack not found'),
  invalidCertificatePackOrder: def(1402, 400, 'Invalid certificate pack order'),
  universalPackNotDeletable: def(1403, 400, 'Universal certificate packs are removed by turning Universal SSL off'),
  // ── notifications (alerting v3) ──────────────────────────────────────────
  webhookNotFound: def(1170, 404, 'Webhook destination not found'),
  policyNotFound: def(1171, 404, 'Notification policy not found'),
  invalidWebhook: def(1172, 400, 'Invalid webhook destination'),
  webhookTestFailed: def(1173, 400, 'The test message to the webhook failed'),
  invalidPolicy: def(1174, 400, 'Invalid notification policy'),
  webhookInUse: def(1175, 409, 'The webhook destination is used by notification policies'),
  // Fallbacks for store errors a route did not map to something more specific.
  notFound: def(1197, 404, 'Not found'),
  conflict: def(1198, 409, 'Conflict'),
  limit: def(1199, 400, 'Limit reached'),
} as const satisfies Record<string, ErrorDef>;

export interface ApiErrorOptions {
  /** JSON pointer into the request body (`/certificate`). */
  pointer?: string;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly code: number;
  readonly statusCode: number;
  readonly pointer: string | undefined;
  readonly headers: Record<string, string>;

  constructor(definition: ErrorDef, message?: string, opts: ApiErrorOptions = {}) {
    super(message ?? definition.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = definition.code;
    this.statusCode = definition.status;
    this.pointer = opts.pointer;
    // A 409 here is never transient: tell the SDK not to send it three times.
    this.headers = definition.status === 409 ? { 'x-should-retry': 'false', ...opts.headers } : { ...opts.headers };
  }
}

/** An error with an arbitrary code (certificate upload failures use the domain's codes). */
export function badRequest(code: number, message: string, pointer?: string): ApiError {
  return new ApiError({ code, status: 400, message }, message, { pointer });
}

/** Seconds a client is told to wait when the store is unavailable: about one reconnect. */
const STORE_RETRY_AFTER_S = 5;

/** Maps a store failure a route did not anticipate to its generic v4 error. */
export function fromStoreError(err: unknown): ApiError | null {
  if (err instanceof StoreUnavailableError) {
    // Transient by nature: the SDK and scripts retry on 503 with Retry-After.
    const message = `The configuration store (${err.store}) is unavailable; retry shortly`;
    return new ApiError(API_ERRORS.storeUnavailable, message, { cause: err, headers: { 'retry-after': String(STORE_RETRY_AFTER_S) } });
  }
  if (err instanceof InUseError) {
    return new ApiError(API_ERRORS.certificateInUse, `${err.message} (hostnames: ${err.hostnames.join(', ')})`, { cause: err });
  }
  if (err instanceof NotFoundError) return new ApiError(API_ERRORS.notFound, err.message, { cause: err });
  if (err instanceof ConflictError) return new ApiError(API_ERRORS.conflict, err.message, { cause: err });
  if (err instanceof LimitError) return new ApiError(API_ERRORS.limit, err.message, { cause: err });
  return null;
}
