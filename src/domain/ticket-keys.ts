// The visitor session-ticket key ring: [next, sealing, previous…]. New tickets are sealed with
// the second key; the others are accepted. The next key is published a whole period before it
// seals anything, so an edge (or worker) that applies a rotation late still accepts the tickets
// of one that applied it early. Made and rotated by the control plane, stored sealed, carried to
// every edge by the config snapshot. Pure: the caller supplies the time and the fresh key bytes.
// Tested in test/sync/ticket-rotator.test.ts and test/edge/ticket-keys.test.ts.

/** Node's ticket key: 16 bytes of key name, 16 of HMAC key, 16 of AES key. */
export const TICKET_KEY_BYTES = 48;
/** The key name OpenSSL writes in front of every ticket it seals. */
export const TICKET_KEY_NAME_BYTES = 16;
/** Cloudflare rotates hourly. */
export const DEFAULT_TICKET_ROTATION_MS = 3_600_000;
/** Keys kept after the current one: a ticket stays accepted for one more rotation period. */
export const PREVIOUS_TICKET_KEYS = 1;

export interface TicketKeyRing {
  /** Between rotations; the edge makes sessions last as long. */
  rotateEveryMs: number;
  /** Newest first: [next, sealing, previous…]; base64 of 48 bytes each. */
  keys: string[];
}

export function parseTicketKeyRing(json: string): TicketKeyRing {
  const ring = JSON.parse(json) as TicketKeyRing;
  if (!Number.isSafeInteger(ring.rotateEveryMs) || ring.rotateEveryMs <= 0 || !Array.isArray(ring.keys) || ring.keys.length === 0) {
    throw new Error('ticket key ring is malformed');
  }
  for (const key of ring.keys) if (Buffer.from(key, 'base64').length !== TICKET_KEY_BYTES) throw new Error('ticket key ring holds a key of the wrong size');
  return ring;
}

/** Whether a ring last rotated at `rotatedOn` (null: none yet) is due at `now`. */
export function ticketRotationDue(rotatedOn: number | null, now: number, rotateEveryMs: number): boolean {
  return rotatedOn === null || now - rotatedOn >= rotateEveryMs || now < rotatedOn - rotateEveryMs;
}

/** The index of the key that seals new tickets (a ring of one key has only that one). */
export function sealingKeyIndex(keyCount: number): number {
  return keyCount > 1 ? 1 : 0;
}

/**
 * The ring after a rotation: a fresh next key, the old next key seals, the old sealing key is
 * kept as previous (PREVIOUS_TICKET_KEYS of them). A first ring gets a next and a sealing key.
 */
export function rotateTicketKeyRing(ring: TicketKeyRing | null, fresh: () => Buffer, rotateEveryMs: number): TicketKeyRing {
  const make = (): string => {
    const key = fresh();
    if (key.length !== TICKET_KEY_BYTES) throw new Error(`a ticket key is ${TICKET_KEY_BYTES} bytes, got ${key.length}`);
    return key.toString('base64');
  };
  if (ring === null) return { rotateEveryMs, keys: [make(), make()] };
  return { rotateEveryMs, keys: [make(), ...ring.keys.slice(0, 1 + PREVIOUS_TICKET_KEYS)] };
}
