// Where a process's log lines go: stdout through pino's SonicBoom, written asynchronously (the
// edge's access log must not block its request loop), in SonicBoom's buffer mode so that a writer
// already holding UTF-8 bytes — the edge's access-line batch — hands them over as they are.
// In text mode each batch was decoded to a string, measured (Buffer.byteLength) and encoded again
// on the way to write(2): ~6 % of a keep-alive request's (wall-clock) profile samples, though an
// A/B run of this change alone found its saving within noise.
import { pino } from 'pino';

export interface LogDestination {
  write(chunk: string): boolean;
  /** Takes ownership of `bytes` (whole UTF-8 lines): the caller must not reuse the memory. */
  writeBytes(bytes: Uint8Array): boolean;
  /**
   * Calls `done` once every byte handed over so far is written. SonicBoom's own flush does not wait
   * (with no minimum length it calls back at once), and its exit-time flushSync writes what is
   * queued while a write may still be in flight in the thread pool: lines lost, or cut into.
   */
  whenWritten(done: () => void): void;
}

export function logDestination(): LogDestination {
  const boom = pino.destination({ sync: false, contentMode: 'buffer' });
  const dest = boom as unknown as LogDestination & { write(chunk: string | Uint8Array): boolean };
  let unwritten = 0;
  boom.on('write', (n: number) => {
    unwritten -= n;
  });
  // Buffer mode takes Buffers only; pino's own lines are strings. Wrapped after construction:
  // SonicBoom sets `write` on the instance, and pino replaces it with a no-op on EPIPE, which
  // writeBytes then follows.
  const writeBuffer = dest.write;
  dest.write = (chunk: string | Uint8Array) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    unwritten += bytes.length;
    return writeBuffer.call(boom, bytes);
  };
  dest.writeBytes = (bytes) => dest.write(bytes);
  dest.whenWritten = (done) => {
    if (unwritten <= 0) return done();
    const check = () => {
      if (unwritten > 0) return;
      boom.off('write', check);
      done();
    };
    boom.on('write', check);
  };
  return dest;
}
