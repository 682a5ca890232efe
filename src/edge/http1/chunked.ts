// Chunked transfer coding (RFC 9112 §7.1), scanned incrementally. The edge passes chunked bodies
// through as they are; it only needs to know where a message ends and that its framing is sound.
// Chunk sizes and extensions are checked to the grammar, so what is passed on reads the same to
// any parser. Trailer fields are checked and then dropped (as nginx does): a trailer section is
// where one parser's field is another's next request. With a payload callback it also decodes
// (for HTTP/1.0 visitors, who cannot read chunks).
// Tested in test/edge/headers.test.ts, test/edge/http1-cases.test.ts and test/edge/http1-fuzz.test.ts.

const SIZE = 0;
const SIZE_BWS = 1;
const EXT_START = 2;
const EXT_NAME = 3;
const EXT_AFTER_NAME = 4;
const EXT_VALUE_START = 5;
const EXT_TOKEN = 6;
const EXT_QUOTED = 7;
const EXT_QUOTED_ESC = 8;
const EXT_AFTER_VALUE = 9;
const SIZE_LF = 10;
const DATA = 11;
const DATA_CR = 12;
const DATA_LF = 13;
const LINE_START = 14;
const TRAILER_NAME = 15;
const TRAILER_VALUE = 16;
const TRAILER_LF = 17;
const FINAL_LF = 18;
const DONE = 19;

/** Largest chunk size accepted (hex digits beyond this would overflow a double's exact range). */
const MAX_SIZE_DIGITS = 12;
/** Longest chunk-size line (extensions included): extensions cost a parser work and carry nothing the edge needs. */
const MAX_LINE_BYTES = 4 * 1024;
/** Largest trailer section, as for a head. */
const MAX_TRAILER_BYTES = 32 * 1024;

// tchar (RFC 9110 §5.6.2), and the bytes allowed in a field value or a quoted string (HTAB, SP, VCHAR, obs-text).
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = TCHAR[c + 32] = 1;
const TEXT = new Uint8Array(256);
TEXT[9] = 1;
for (let c = 32; c < 256; c++) if (c !== 127) TEXT[c] = 1;

/** A chunked body the edge cannot frame; `reason` is a stable code naming the fault. */
export class ChunkedFramingError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

export type PayloadSink = (buf: Buffer, start: number, end: number) => void;

const isBlank = (c: number) => c === 32 || c === 9;

export class ChunkedScanner {
  #state = SIZE;
  #size = 0;
  #digits = 0;
  #sawDigit = false;
  #remaining = 0;
  /** Bytes of the current chunk-size line, or of the trailer section. */
  #lineBytes = 0;
  #trailers = false;
  /**
   * After feed(): where the bytes to pass on end in the buffer just fed. Beyond it (up to what
   * feed returned) lies the trailer section, which is not passed on.
   */
  forwardEnd = 0;

  get done(): boolean {
    return this.#state === DONE;
  }

  /** The message had trailer fields, left out: whoever passes the body on ends it with CRLF itself. */
  get trailersDropped(): boolean {
    return this.#trailers;
  }

  /**
   * Scans buf[start, end). Returns the offset just past the message's last byte, or -1 when the
   * message goes on. Payload bytes go to `sink` when given. Throws ChunkedFramingError.
   */
  feed(buf: Buffer, start: number, end: number, sink?: PayloadSink): number {
    let fwd = this.#trailers ? start : -1;
    const stop = this.#scan(buf, start, end, sink);
    if (fwd < 0) fwd = this.#trailerAt;
    this.forwardEnd = fwd >= 0 ? fwd : stop < 0 ? end : stop;
    return stop;
  }

  /** Where the first trailer field began in the buffer being scanned (-1: not in it). */
  #trailerAt = -1;

  #fail(reason: string, message: string): never {
    throw new ChunkedFramingError(reason, message);
  }

  #scan(buf: Buffer, start: number, end: number, sink?: PayloadSink): number {
    this.#trailerAt = -1;
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
            // Leading zeros are not significant ("000" ends a body).
            if ((this.#size > 0 || v > 0) && ++this.#digits > MAX_SIZE_DIGITS) this.#fail('chunk_size_too_large', 'chunk size too large');
            this.#size = this.#size * 16 + v;
            this.#sawDigit = true;
          } else if (!this.#sawDigit) {
            this.#fail('invalid_chunk_size', 'chunk size missing');
          } else if (c === 13) {
            this.#state = SIZE_LF;
          } else if (c === 59 /* ; */) {
            this.#state = EXT_START;
          } else if (isBlank(c)) {
            this.#state = SIZE_BWS;
          } else {
            this.#fail('invalid_chunk_size', 'bad character in chunk size');
          }
          continue;
        }
        case SIZE_BWS: {
          // Blanks after the size only before an extension ("5 junk" and "5 \r\n" are not chunk sizes).
          const c = buf[i++];
          if (c === 59) this.#state = EXT_START;
          else if (!isBlank(c)) this.#fail('invalid_chunk_size', 'bad character after chunk size');
          this.#lineByte();
          continue;
        }
        case EXT_START: {
          const c = buf[i++];
          if (TCHAR[c] === 1) this.#state = EXT_NAME;
          else if (!isBlank(c)) this.#fail('invalid_chunk_extension', 'chunk extension without a name');
          this.#lineByte();
          continue;
        }
        case EXT_NAME:
        case EXT_TOKEN: {
          const c = buf[i++];
          if (TCHAR[c] === 1) {
            // in the name or the value
          } else if (c === 13) this.#state = SIZE_LF;
          else if (c === 59) this.#state = EXT_START;
          else if (c === 61 /* = */ && this.#state === EXT_NAME) this.#state = EXT_VALUE_START;
          else if (isBlank(c)) this.#state = this.#state === EXT_NAME ? EXT_AFTER_NAME : EXT_AFTER_VALUE;
          else this.#fail('invalid_chunk_extension', 'bad character in a chunk extension');
          this.#lineByte();
          continue;
        }
        case EXT_AFTER_NAME:
        case EXT_AFTER_VALUE: {
          const c = buf[i++];
          if (c === 13) this.#state = SIZE_LF;
          else if (c === 59) this.#state = EXT_START;
          else if (c === 61 && this.#state === EXT_AFTER_NAME) this.#state = EXT_VALUE_START;
          else if (!isBlank(c)) this.#fail('invalid_chunk_extension', 'bad character in a chunk extension');
          this.#lineByte();
          continue;
        }
        case EXT_VALUE_START: {
          const c = buf[i++];
          if (c === 34 /* " */) this.#state = EXT_QUOTED;
          else if (TCHAR[c] === 1) this.#state = EXT_TOKEN;
          else if (!isBlank(c)) this.#fail('invalid_chunk_extension', 'chunk extension without a value after "="');
          this.#lineByte();
          continue;
        }
        case EXT_QUOTED: {
          const c = buf[i++];
          if (c === 34) this.#state = EXT_AFTER_VALUE;
          else if (c === 92 /* \ */) this.#state = EXT_QUOTED_ESC;
          else if (TEXT[c] !== 1) this.#fail('invalid_chunk_extension', 'bad character in a quoted chunk extension');
          this.#lineByte();
          continue;
        }
        case EXT_QUOTED_ESC:
          if (TEXT[buf[i++]] !== 1) this.#fail('invalid_chunk_extension', 'bad escape in a quoted chunk extension');
          this.#state = EXT_QUOTED;
          this.#lineByte();
          continue;
        case SIZE_LF:
          if (buf[i++] !== 10) this.#fail('chunk_size_without_crlf', 'chunk size line not ended by CRLF');
          if (this.#size === 0) {
            this.#state = LINE_START;
          } else {
            this.#remaining = this.#size;
            this.#state = DATA;
          }
          this.#size = 0;
          this.#digits = 0;
          this.#sawDigit = false;
          this.#lineBytes = 0;
          continue;
        case DATA_CR:
          if (buf[i++] !== 13) this.#fail('chunk_data_without_crlf', 'chunk data not followed by CRLF');
          this.#state = DATA_LF;
          continue;
        case DATA_LF:
          if (buf[i++] !== 10) this.#fail('chunk_data_without_crlf', 'chunk data not followed by CRLF');
          this.#state = SIZE;
          continue;
        case LINE_START: {
          // After the last chunk: CRLF ends the message, anything else starts a trailer field.
          const c = buf[i++];
          if (c === 13) {
            this.#state = FINAL_LF;
          } else if (TCHAR[c] === 1) {
            if (!this.#trailers) {
              this.#trailers = true;
              this.#trailerAt = i - 1;
            }
            this.#state = TRAILER_NAME;
            this.#trailerByte();
          } else {
            this.#fail('invalid_trailer', 'a trailer line is not a header field');
          }
          continue;
        }
        case TRAILER_NAME: {
          const c = buf[i++];
          if (c === 58 /* : */) this.#state = TRAILER_VALUE;
          else if (TCHAR[c] !== 1) this.#fail('invalid_trailer', 'a trailer field name is not a token');
          this.#trailerByte();
          continue;
        }
        case TRAILER_VALUE: {
          const c = buf[i++];
          if (c === 13) this.#state = TRAILER_LF;
          else if (TEXT[c] !== 1) this.#fail('invalid_trailer', 'a trailer field value holds a control character');
          this.#trailerByte();
          continue;
        }
        case TRAILER_LF:
          if (buf[i++] !== 10) this.#fail('invalid_trailer', 'trailer line not ended by CRLF');
          this.#state = LINE_START;
          continue;
        case FINAL_LF:
          if (buf[i++] !== 10) this.#fail('chunked_end_without_crlf', 'chunked body not ended by CRLF');
          this.#state = DONE;
          return i;
        default:
          return i;
      }
    }
    return -1;
  }

  #lineByte(): void {
    if (++this.#lineBytes > MAX_LINE_BYTES) this.#fail('chunk_extension_too_long', 'chunk extensions longer than 4 KiB');
  }

  #trailerByte(): void {
    if (++this.#lineBytes > MAX_TRAILER_BYTES) this.#fail('trailer_too_large', 'trailer section larger than 32 KiB');
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}
