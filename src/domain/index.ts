export type * from './types.ts';
export { SSL_MODES, CERT_STATUSES } from './types.ts';
export { deployedMarkCandidate, deriveStatus, liveEdges } from './deployment-status.ts';
export type { DeploymentView, DerivedStatus } from './deployment-status.ts';
export { normalizeHostname, isValidHostname, belongsToZone, wildcardFor } from './hostnames.ts';
export { resolveAop, newestZoneCertificate, selectZoneCertificate, nextNotBefore, aopApplies } from './aop-resolve.ts';
export type { AopChoice, AopInputs, AopReason, ZoneCertificateSelection } from './aop-resolve.ts';
export { validateCertificateUpload, CERT_ERROR_CODES, CERT_WARNING_CODES } from './cert-validate.ts';
export type { CertUpload, CertValidation, CertValidationFailure, ValidatedCertificate, CertField, CertWarning } from './cert-validate.ts';
export { signatureName, decimalSerial, hexFingerprint, issuerName } from './cert-naming.ts';
export { BUNDLE_METHODS } from './types.ts';
export { validateEdgeCertificateUpload, servedNames, dnsNamesOf, EDGE_CERT_ERROR_CODES, EDGE_CERT_WARNING_CODES } from './edge-cert-validate.ts';
export type { EdgeCertValidation, ValidatedEdgeCertificate } from './edge-cert-validate.ts';
export { compareEdgeCertificates, edgeCertificateCandidates, wildcardSanFor, compareAcmeCertificates, acmePackFor } from './edge-cert-select.ts';
export type { EdgeCertCandidate, EdgeCertMatch } from './edge-cert-select.ts';
export { ACME_NOT_CONFIGURED, ORDER_STAGES, packStatus, renewalTime, retryDelayMs, packDue, planUniversalPacks, edgesBehind } from './certificate-packs.ts';
export type {
  AcmeChallenge,
  AcmeChallengeType,
  CertificatePack,
  CertificatePackType,
  OrderStage,
  PackCertificate,
  PackStatus,
  UniversalPlan,
} from './certificate-packs.ts';
export {
  MIN_TLS_VERSIONS,
  EDGE_TLS_VERSIONS,
  TLS_1_3_VALUES,
  HSTS_MAX_AGE_LIMIT,
  DEFAULT_EDGE_SETTINGS,
  tlsRange,
  edgeSettingsConflict,
  hstsValue,
  visitorResponseHeaders,
} from './zone-settings.ts';
export type { MinTlsVersion, Tls13, StrictTransportSecurity, ZoneEdgeSettings, ZoneEdgeSettingKey, TlsProtocol, TlsRange } from './zone-settings.ts';
export {
  TICKET_KEY_BYTES,
  TICKET_KEY_NAME_BYTES,
  DEFAULT_TICKET_ROTATION_MS,
  PREVIOUS_TICKET_KEYS,
  parseTicketKeyRing,
  ticketRotationDue,
  rotateTicketKeyRing,
  sealingKeyIndex,
} from './ticket-keys.ts';
export type { TicketKeyRing } from './ticket-keys.ts';
