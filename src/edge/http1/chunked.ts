// Chunked transfer coding (RFC 9112 §7.1), scanned incrementally. The edge passes chunked bodies
// through as they are; it only needs to know where a message ends and that its framing is sound.
// With a payload callback it also decodes (for HTTP/1.0 visitors, who cannot read chunks).

const SIZE = 0;
const SIZE_EXT = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const LINE_START = 6;
const TRAILER_LINE = 7;
const TRAILER_LF = 8;
const FINAL_LF = 9;
const DONE = 10;

/** Largest chunk size accepted (hex digits beyond this would overflow a double's exact range). */
const MAX_SIZE_DIGITS = 12;

export class ChunkedFramingError extends Error {}

export type PayloadSink = (buf: Buffer, start: number, end: number) => void;

export class ChunkedScanner {
  #state = SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;

  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Scans buf[start, end). Returns the offset just past the message's last byte, or -1 when the
   * message goes on. Payload bytes go to `sink` when given. Throws ChunkedFramingError.
   */
  feed(buf: Buffer, start: number, end: number, sink?: PayloadSink): number {
    let i = start;
    while (i < end) {
      switch (this.#state) {
        case DATA: {
          const n = Math.min(this.#remaining, end - i);
          if (sink !== undefined) sink(buf, i, i + n);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = DATA_CR;
          continue;
        }
        case SIZE: {
          const c = buf[i++];
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) throw new ChunkedFramingError('chunk size too large');
            this.#size = this.#size * 16 + v;
          } else if (this.#digits === 0) {
            throw new ChunkedFramingError('chunk size missing');
          } else if (c === 13) {
            this.#state = SIZE_LF;
          } else if (c === 59 /* ; */ || c === 32 || c === 9) {
            this.#state = SIZE_EXT;
          } else {
            throw new ChunkedFramingError('bad character in chunk size');
          }
          continue;
        }
        case SIZE_EXT: {
          const c = buf[i++];
          if (c === 13) this.#state = SIZE_LF;
          else if (c === 10 || c === 0) throw new ChunkedFramingError('bad chunk extension');
          continue;
        }
        case SIZE_LF:
          if (buf[i++] !== 10) throw new ChunkedFramingError('chunk size line not ended by CRLF');
          if (this.#size === 0) {
            this.#state = LINE_START;
          } else {
            this.#remaining = this.#size;
            this.#state = DATA;
          }
          this.#size = 0;
          this.#digits = 0;
          continue;
        case DATA_CR:
          if (buf[i++] !== 13) throw new ChunkedFramingError('chunk data not followed by CRLF');
          this.#state = DATA_LF;
          continue;
        case DATA_LF:
          if (buf[i++] !== 10) throw new ChunkedFramingError('chunk data not followed by CRLF');
          this.#state = SIZE;
          continue;
        case LINE_START: {
          // After the last chunk: CRLF ends the message, anything else is a trailer field line.
          const c = buf[i++];
          if (c === 13) this.#state = FINAL_LF;
          else if (c === 10 || c === 0) throw new ChunkedFramingError('bad trailer line');
          else this.#state = TRAILER_LINE;
          continue;
        }
        case TRAILER_LINE: {
          const c = buf[i++];
          if (c === 13) this.#state = TRAILER_LF;
          else if (c === 10 || c === 0) throw new ChunkedFramingError('bad trailer line');
          continue;
        }
        case TRAILER_LF:
          if (buf[i++] !== 10) throw new ChunkedFramingError('trailer line not ended by CRLF');
          this.#state = LINE_START;
          continue;
        case FINAL_LF:
          if (buf[i++] !== 10) throw new ChunkedFramingError('chunked body not ended by CRLF');
          this.#state = DONE;
          return i;
        default:
          return i;
      }
    }
    return -1;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}
