// What the bench needs from every peer it drives load through: where to send requests, with which
// Host, and which process tree to measure. The origin is not a peer; `direct` has no process.
import type { Spawned } from '../lib/proc.ts';

export interface Peer {
  /** Column name in the table: originpull, nginx, haproxy, undici-minimal, direct… */
  readonly name: string;
  /** Base URL wrk loads, e.g. http://127.0.0.1:41234 (paths /1k and /64k are appended). */
  readonly baseUrl: string;
  /** The same proxy for HTTPS visitors (the https:// base URL), where the peer has it. */
  readonly tlsBaseUrl?: string;
  /** Host header sent with every request. */
  readonly host: string;
  /** The proxy's root process (its tree is measured); null when nothing sits between wrk and the origin. */
  readonly proc: Spawned | null;
  stop(): Promise<void>;
}
