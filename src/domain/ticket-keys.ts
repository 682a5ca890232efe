// The visitor session-ticket key ring: the key new tickets are sealed with first, then the keys
// still accepted. Made and rotated by the control plane, stored sealed, carried to every edge by
// the config snapshot. Pure: the caller supplies the time and the fresh key bytes.

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
  /** Newest (current) first; base64 of 48 bytes each. */
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

/** The ring after a rotation: `fresh` becomes current, the newest previous keys stay accepted. */
export function rotateTicketKeyRing(ring: TicketKeyRing | null, fresh: Buffer, rotateEveryMs: number): TicketKeyRing {
  if (fresh.length !== TICKET_KEY_BYTES) throw new Error(`a ticket key is ${TICKET_KEY_BYTES} bytes, got ${fresh.length}`);
  const kept = ring === null ? [] : ring.keys.slice(0, PREVIOUS_TICKET_KEYS);
  return { rotateEveryMs, keys: [fresh.toString('base64'), ...kept] };
}
