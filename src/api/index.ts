// The control-plane API's public face.
export { buildApiServer, BODY_LIMIT } from './server.ts';
export type { ApiDeps } from './server.ts';
export { ensureAdminToken, ADMIN_TOKEN_FILE } from './admin-token.ts';
export { ensureInstallationPki, createInstallationPki } from './ensure-pki.ts';
export type { PkiOptions } from './ensure-pki.ts';
export { API_PREFIX } from './openapi.ts';
export { CA_PEM_PATH, EDGE_CA_PEM_PATH } from './ca-pem.ts';
export { API_ERRORS, ApiError } from './errors.ts';
export { hashTokenSecret, generateTokenSecret } from './token-secret.ts';
export { METRICS_PATH, DEFAULT_MAX_CERTIFICATE_SERIES } from './metrics.ts';
export type { MetricsOptions } from './metrics.ts';
