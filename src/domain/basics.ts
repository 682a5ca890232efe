// The domain's most basic vocabulary, which every other domain module may use: SSL modes, on/off,
// deployment statuses and what an edge node reports. It imports nothing, so no module that
// types.ts gathers has to import types.ts back.
// Tested in test/domain/deployment-status.test.ts.
export const SSL_MODES = ['off', 'flexible', 'full', 'strict'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export type OnOff = 'on' | 'off';

/** The seven statuses Cloudflare uses for certificates and hostname associations. */
export const CERT_STATUSES = [
  'initializing',
  'pending_deployment',
  'pending_deletion',
  'active',
  'deleted',
  'deployment_timed_out',
  'deletion_timed_out',
] as const;
export type CertStatus = (typeof CERT_STATUSES)[number];

/** An edge node as it reports itself to the store. */
export interface EdgeNode {
  id: string;
  name: string;
  startedAt: number;
  lastHeartbeat: number;
  /** The config version of the snapshot this node is serving. */
  appliedVersion: number;
}
