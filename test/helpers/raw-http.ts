// HTTP/1.1 with exact bytes on both sides of a proxy: an origin on a raw socket that records every
// byte each connection brought and answers each request it frames (Content-Length or chunked, as a
// lenient server would), and a visitor socket that writes exact bytes and waits for what comes back.
import assert from 'node:assert/strict';
import net from 'node:net';

export interface SeenRequest {
  head: string;
  body: string;
}

/** An origin on a raw socket: each request's head and body are recorded; `answer` says what bytes go back. */
export class RawOrigin {
  readonly server: net.Server;
  readonly seen: SeenRequest[] = [];
  /** Every byte received, per connection, in arrival order (latin1). */
  readonly raw: string[] = [];
  /** Every chunk received, all connections, in arrival order (for rawSince). */
  readonly #chunks: { connection: number; text: string }[] = [];
  connections = 0;
  constructor(answer: (req: SeenRequest, socket: net.Socket) => void) {
    this.server = net.createServer((socket) => {
      const index = this.connections++;
      this.raw[index] = '';
      let buf = '';
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => {
        const text = d.toString('latin1');
        this.raw[index] += text;
        this.#chunks.push({ connection: index, text });
        buf += text;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.slice(0, end);
          let rest = buf.slice(end + 4);
          let body = '';
          const length = /\r\ncontent-length: *(\d+)/i.exec(head);
          if (length !== null) {
            if (rest.length < Number(length[1])) return;
            body = rest.slice(0, Number(length[1]));
            rest = rest.slice(body.length);
          } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
            const last = rest.indexOf('0\r\n\r\n');
            if (last < 0) return;
            body = rest.slice(0, last + 5);
            rest = rest.slice(last + 5);
          }
          buf = rest;
          const req = { head, body };
          this.seen.push(req);
          answer(req, socket);
        }
      });
    });
  }
  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port)));
  }
  /** Everything received so far, all connections. */
  allRaw(): string {
    return this.raw.join('');
  }
  /** A mark for rawSince. */
  mark(): number {
    return this.#chunks.length;
  }
  /**
   * What arrived after `mark`: each connection's bytes together, connections in the order their
   * first byte came (a proxy may use an older pooled connection and a new one in the same run).
   */
  rawSince(mark: number): string {
    const byConnection = new Map<number, string>();
    for (let i = mark; i < this.#chunks.length; i++) {
      const { connection, text } = this.#chunks[i]!;
      byConnection.set(connection, (byConnection.get(connection) ?? '') + text);
    }
    return [...byConnection.values()].join('');
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw visitor connection; `until` waits for the received text to satisfy a test. */
export class RawVisitor {
  readonly socket: net.Socket;
  text = '';
  closed = false;
  #waiters: (() => void)[] = [];
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      for (const w of this.#waiters.splice(0)) w();
    });
    this.socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.socket.on('error', () => {});
  }
  send(s: string): this {
    this.socket.write(s, 'latin1');
    return this;
  }
  async until(done: (text: string) => boolean, what: string, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.text)) {
      if (this.closed) assert.fail(`connection closed before ${what}; got ${JSON.stringify(this.text)}`);
      if (Date.now() > deadline) assert.fail(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.text;
  }
  /** Waits for the peer to close (asserting it does within `timeoutMs`). */
  async closedByPeer(timeoutMs = 5_000): Promise<void> {
    await this.until(() => this.closed, 'close', timeoutMs).catch(() => {});
    assert.ok(this.closed, `the peer closed the connection; got ${JSON.stringify(this.text.slice(0, 300))}`);
  }
  end(): void {
    this.socket.destroy();
  }
}

/** The reason code an edge error page names (`Error code: <code>…</code>`), or '' when none. */
export function reasonOf(text: string): string {
  return /Error code: <code>([a-z0-9_]+)<\/code>/.exec(text)?.[1] ?? '';
}
