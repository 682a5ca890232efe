// An upgraded connection (WebSocket, or any protocol the origin switched to with 101): from the
// 101 on, the visitor connection and its own origin connection (dialled for the upgrade, with the
// route's client certificate, never pooled) are one byte stream. Bytes are relayed as they come,
// with back-pressure each way (a full side pauses the reads of the other), half-closes are passed
// on (a FIN, or TLS close_notify, becomes an end() of the other side), and the tunnel is cut after
// an idle time without a byte either way, at an edge shutdown's deadline, or when either side
// fails. The request that asked for the upgrade is logged once both sides have closed, with the
// tunnel's bytes and its whole duration. Tested in test/edge/websocket.test.ts.
import type { Socket } from 'node:net';
import { log } from './phases.ts';
import type { ReadBlock } from './read-blocks.ts';
import type { RequestCtx } from './request-ctx.ts';
import type { VisitorTransport } from './visitor-transport.ts';

/** What a tunnel tells the edge (open tunnels are counted in metrics). */
export interface TunnelHost {
  tunnelOpened(tunnel: UpgradeTunnel): void;
  tunnelClosed(tunnel: UpgradeTunnel): void;
}

/** How long a side that closed cleanly waits for the other to finish its own close. */
const CLOSE_GRACE_MS = 5_000;

export class UpgradeTunnel {
  readonly ctx: RequestCtx;
  readonly #visitor: VisitorTransport;
  readonly #origin: Socket;
  readonly #host: TunnelHost;
  readonly #idleMs: number;
  /** performance.now() of the last byte either way. */
  #lastActivity = performance.now();
  #visitorPaused = false;
  #originPaused = false;
  #visitorEnded = false;
  #originEnded = false;
  #visitorClosed = false;
  #originClosed = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(ctx: RequestCtx, visitor: VisitorTransport, origin: Socket, host: TunnelHost, idleMs: number) {
    this.ctx = ctx;
    this.#visitor = visitor;
    this.#origin = origin;
    this.#host = host;
    this.#idleMs = idleMs;
    host.tunnelOpened(this);
  }

  // ── visitor → origin ──

  fromVisitor(chunk: Buffer): void {
    this.#lastActivity = performance.now();
    this.ctx.bytesIn += chunk.length;
    if (this.#origin.writableEnded || this.#origin.destroyed) return;
    // The origin socket may hold the chunk until written: it must outlive the transport's read buffer.
    if (!this.#origin.write(this.#visitor.keep(chunk)) && !this.#visitorPaused) {
      this.#visitorPaused = true;
      this.#visitor.pause();
    }
  }

  /** The origin socket drained: read the visitor again. */
  originDrained(): void {
    if (!this.#visitorPaused) return;
    this.#visitorPaused = false;
    this.#visitor.resume();
  }

  visitorEnd(): void {
    this.#visitorEnded = true;
    if (!this.#origin.destroyed) this.#origin.end();
  }

  visitorClosed(): void {
    this.#visitorClosed = true;
    if (this.#originClosed) return this.#finish();
    if (this.#visitorEnded && this.#originEnded) {
      // Both sent their FIN: the origin side finishes writing what it has, within a grace period.
      this.#origin.end();
      this.#arm(CLOSE_GRACE_MS);
    } else {
      this.#origin.destroy();
    }
  }

  // ── origin → visitor ──

  /** Bytes from the origin, read into `block` (lent to the visitor write until it completes). */
  fromOrigin(chunk: Buffer, block: ReadBlock): void {
    this.#lastActivity = performance.now();
    this.ctx.bytesOut += chunk.length;
    if (this.#visitorClosed) return;
    if (!this.#visitor.write(chunk, block.lend()) && !this.#originPaused) {
      this.#originPaused = true;
      this.#origin.pause();
      this.#visitor.onDrain(this.#visitorDrained);
    }
  }

  readonly #visitorDrained = (): void => {
    if (!this.#originPaused) return;
    this.#originPaused = false;
    if (!this.#origin.destroyed) this.#origin.resume();
  };

  originEnd(): void {
    this.#originEnded = true;
    this.#visitor.end();
  }

  originClosed(): void {
    this.#originClosed = true;
    if (this.#visitorClosed) return this.#finish();
    if (this.#visitorEnded && this.#originEnded) {
      this.#arm(CLOSE_GRACE_MS);
    } else {
      this.#visitor.destroy();
    }
  }

  // ── limits ──

  /** Called by the edge's sweep: a tunnel silent both ways for the idle time is cut. */
  expire(now: number): void {
    if (now - this.#lastActivity >= this.#idleMs) this.destroy();
  }

  /** Edge shutdown: the tunnel may run until `deadlineMs` from now, then it is cut. */
  shutdown(deadlineMs: number): void {
    if (this.#timer === null) this.#arm(deadlineMs);
  }

  destroy(): void {
    this.#visitor.destroy();
    this.#origin.destroy();
  }

  #arm(ms: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.destroy(), ms);
  }

  #finish(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#host.tunnelClosed(this);
    log(this.ctx);
  }
}
