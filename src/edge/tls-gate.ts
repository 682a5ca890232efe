// The HTTPS listener's first step: read a visitor's ClientHello off the TCP socket (bounded in size
// and time), let hello-policy.ts decide, then either write a TLS alert and close, or hand the
// socket — its bytes put back — to the TLS server, which handshakes as if it had accepted it.
// Tested in test/edge/visitor-certificates.test.ts and test/regressions/visitor-handshake-timeout.test.ts.
import type net from 'node:net';
import { MAX_CLIENT_HELLO, parseClientHello, type ClientHello } from './client-hello.ts';
import { TLS_ALERTS, type HelloDecision, type TlsAlert } from './hello-policy.ts';

export interface TlsGateHooks {
  decide(hello: ClientHello): HelloDecision;
  /**
   * Continue the handshake on `socket` (its ClientHello bytes are unshifted, the socket paused);
   * `decision` is null when the bytes were no ClientHello the edge could read.
   */
  handOff(socket: net.Socket, decision: HelloDecision | null, hello: ClientHello | null): void;
  /** A visitor refused or cut before the handshake; for logs and metrics. */
  refused?(reason: string, hello: ClientHello | null): void;
}

/** A fatal alert record as sent before any ServerHello (plaintext, record version TLS 1.2). */
export function alertRecord(alert: TlsAlert): Buffer {
  return Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, TLS_ALERTS[alert]]);
}

/**
 * Reads the ClientHello of a just-accepted socket. `timeoutMs` bounds how long a visitor may take
 * to send it (the TLS server's own handshake timeout starts after the hand-off).
 */
export function gateTlsConnection(socket: net.Socket, timeoutMs: number, hooks: TlsGateHooks): void {
  let received: Buffer | null = null;
  const timer = setTimeout(() => {
    finish();
    hooks.refused?.('client_hello_timeout', null);
    socket.destroy();
  }, timeoutMs);
  const onData = (chunk: Buffer): void => {
    received = received === null ? chunk : Buffer.concat([received, chunk]);
    const parsed = parseClientHello(received);
    if (parsed.kind === 'incomplete' && received.length <= MAX_CLIENT_HELLO) return;
    finish();
    let decision: HelloDecision | null = null;
    if (parsed.kind === 'hello') {
      decision = hooks.decide(parsed.hello);
      if (decision.kind === 'alert') {
        hooks.refused?.(decision.reason, parsed.hello);
        socket.write(alertRecord(decision.alert));
        socket.destroySoon();
        return;
      }
    }
    // Not a ClientHello this edge can read: the TLS server answers it as it would any bad handshake.
    socket.pause();
    socket.unshift(received);
    hooks.handOff(socket, decision, parsed.kind === 'hello' ? parsed.hello : null);
  };
  const onGone = (): void => {
    finish();
    socket.destroy();
  };
  function finish(): void {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('error', onGone);
  }
  socket.on('data', onData);
  socket.on('end', onGone);
  socket.on('error', onGone);
}
