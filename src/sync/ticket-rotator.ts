// Rotates the visitor session-ticket key ring on a schedule, run by every API node: the ring is
// written with a compare-and-set on its rotation time, so nodes racing rotate it once, and the
// config version bump carries it to every edge through the snapshot.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { TICKET_KEY_BYTES, parseTicketKeyRing, rotateTicketKeyRing, ticketRotationDue } from '../domain/index.ts';
import type { SecretBox, TicketRotatorStore } from '../store/index.ts';

export interface TicketRotatorOptions {
  store: TicketRotatorStore;
  secretBox: SecretBox;
  rotateEveryMs: number;
  logger?: Logger;
  now?: () => number;
}

export interface TicketRotator {
  /** Rotates when due; true when this node rotated. */
  runOnce(): Promise<boolean>;
  close(): Promise<void>;
}

export function startTicketRotator(o: TicketRotatorOptions): TicketRotator {
  const now = o.now ?? Date.now;
  let running: Promise<boolean> | null = null;
  let closed = false;

  const round = async (): Promise<boolean> => {
    const pki = await o.store.getPki();
    if (pki === null) return false;
    const rotatedOn = pki.ticketKeysRotatedOn ?? null;
    const at = now();
    if (!ticketRotationDue(rotatedOn, at, o.rotateEveryMs)) return false;
    let ring = null;
    try {
      ring = pki.ticketKeysSealed ? parseTicketKeyRing(o.secretBox.open(pki.ticketKeysSealed)) : null;
    } catch (err) {
      // Unreadable: start a fresh ring (tickets sealed before fall back to full handshakes).
      o.logger?.warn({ err }, 'session-ticket key ring unreadable; starting a new one');
    }
    const next = rotateTicketKeyRing(ring, () => randomBytes(TICKET_KEY_BYTES), o.rotateEveryMs);
    const rotated = await o.store.rotateTicketKeys(rotatedOn, o.secretBox.seal(JSON.stringify(next)), at);
    if (rotated) o.logger?.info({ keys: next.keys.length, rotateEveryMs: o.rotateEveryMs }, 'visitor session-ticket keys rotated');
    return rotated;
  };

  const runOnce = (): Promise<boolean> => {
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  };

  // Checked often, so a late or restarted node still rotates close to the schedule.
  const timer = setInterval(() => {
    if (closed) return;
    runOnce().catch((err: unknown) => o.logger?.warn({ err }, 'session-ticket key rotation failed; retrying'));
  }, Math.max(250, Math.min(60_000, Math.floor(o.rotateEveryMs / 10))));
  timer.unref();

  return {
    runOnce,
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
