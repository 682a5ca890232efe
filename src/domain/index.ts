export type * from './types.ts';
export { SSL_MODES, CERT_STATUSES } from './types.ts';
export { deriveStatus, liveEdges } from './deployment-status.ts';
export type { DeploymentView, DerivedStatus } from './deployment-status.ts';
export { normalizeHostname, isValidHostname, belongsToZone, wildcardFor } from './hostnames.ts';
export { resolveAop, newestZoneCertificate, aopApplies } from './aop-resolve.ts';
export type { AopChoice, AopInputs, AopReason } from './aop-resolve.ts';
