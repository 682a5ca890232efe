// The origin-side toolkit: configuration for origin servers, verify-origin, and the CLI's API client.
export * from './config/index.ts';
export { verifyOrigin, parseOrigin, checkClientCertificate, VerifyOriginInputError } from './verify-origin.ts';
export type { VerifyOriginOptions, VerifyOriginResult, Check, CheckId, CheckStatus, Verdict } from './verify-origin.ts';
export { probe, probePlainHttp, hostHeader } from './tls-probe.ts';
export type { ProbeResult, ProbeOutcome, ProbeTarget, ServerCertInfo, UnreachableReason } from './tls-probe.ts';
export { ApiClient, ApiError, apiUrls, fetchOriginPullCa } from './api-client.ts';
export type { ApiClientOptions } from './api-client.ts';
export { uploadCertificate, UploadWaitError } from './upload.ts';
export type { UploadOptions, UploadResult, UploadedCertificate, Association, AopStatus } from './upload.ts';
