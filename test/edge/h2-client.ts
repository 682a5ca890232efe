// Shared by the HTTP/2 edge tests: a node:http2 client session to the edge for a given name, a
// request helper that collects status, headers, body and trailers, and a raw frame writer for
// what no well-behaved client sends (connection-specific fields, rapid resets).
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import tls, { type TLSSocket } from 'node:tls';

export function h2connect(port: number, servername: string, ca: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${servername}:${port}`, {
      createConnection: () => tls.connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['h2'] }),
    });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

export interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders | null;
}

/** One request; `body` ends the stream after it (omitted: the stream ends with the head). */
export function h2request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': body === undefined ? 'GET' : 'POST', ...headers }, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | null = null;
    req.on('response', (h) => (head = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), trailers }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

// ── raw frames ──

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInt(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** A header block of literals without indexing, new names (no Huffman): valid HPACK that needs no state. */
export function hpackBlock(fields: [string, string][]): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of fields) {
    bytes.push(0x00, ...hpackInt(name.length, 7, 0), ...Buffer.from(name, 'latin1'));
    bytes.push(...hpackInt(value.length, 7, 0), ...Buffer.from(value, 'latin1'));
  }
  return Buffer.from(bytes);
}

export function headersFrame(stream: number, fields: [string, string][], endStream = true): Buffer {
  return frame(FRAME.HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, hpackBlock(fields));
}

export function rstFrame(stream: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, stream, p);
}

/** A TLS connection speaking raw HTTP/2 frames: the preface and an empty SETTINGS are sent; frames received are collected. */
export class RawH2 {
  readonly socket: TLSSocket;
  readonly frames: Frame[] = [];
  closed = false;
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, servername: string, ca: string): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['h2'] }, () => {
        if (socket.alpnProtocol !== 'h2') return reject(new Error(`ALPN gave ${socket.alpnProtocol}`));
        const raw = new RawH2(socket);
        socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(FRAME.SETTINGS, 0, 0)]));
        resolve(raw);
      });
      socket.once('error', reject);
    });
  }

  #onData(d: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, d]);
    while (this.#buf.length >= 9) {
      const len = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + len) break;
      const f: Frame = { type: this.#buf[3], flags: this.#buf[4], stream: this.#buf.readUInt32BE(5) & 0x7fffffff, payload: this.#buf.subarray(9, 9 + len) };
      this.#buf = this.#buf.subarray(9 + len);
      if (f.type === FRAME.SETTINGS && (f.flags & 1) === 0) this.socket.write(frame(FRAME.SETTINGS, 1, 0));
      this.frames.push(f);
    }
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves with the first frame matching `pred` (or null once the connection closed), within `ms`. */
  async waitFor(pred: (f: Frame) => boolean, ms = 10_000): Promise<Frame | null> {
    const until = Date.now() + ms;
    for (;;) {
      const found = this.frames.find(pred);
      if (found !== undefined) return found;
      if (this.closed) return null;
      const left = until - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The server's SETTINGS as id → value. */
  async settings(): Promise<Map<number, number>> {
    const f = await this.waitFor((x) => x.type === FRAME.SETTINGS && (x.flags & 1) === 0);
    const out = new Map<number, number>();
    for (let i = 0; f !== null && i + 6 <= f.payload.length; i += 6) out.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
    return out;
  }

  write(b: Buffer): boolean {
    return this.socket.write(b);
  }

  close(): void {
    this.socket.destroy();
  }
}

export function requestFields(authority: string, path = '/', method = 'GET'): [string, string][] {
  return [
    [':method', method],
    [':scheme', 'https'],
    [':authority', authority],
    [':path', path],
  ];
}
