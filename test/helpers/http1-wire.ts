// Reading HTTP/1.1 messages back out of recorded bytes, for tests that compare what went over a
// wire: responses a visitor got (framed by Content-Length, chunked or the connection's end) and
// requests an origin got. Deliberately small and separate from the edge's parser: it is the
// yardstick, not the thing measured. Bytes are latin1 strings.

export interface WireMessage {
  /** The start line. */
  line: string;
  /** Header lines after the start line, as sent. */
  fields: string[];
  /** The body bytes as they were on the wire (chunked framing included). */
  raw: string;
  /** The payload (chunked decoded). */
  payload: string;
  /** The message was complete (false: it ran to the end of the bytes without its framing's end). */
  complete: boolean;
}

function field(fields: string[], name: string): string[] {
  const out: string[] = [];
  for (const f of fields) {
    const colon = f.indexOf(':');
    if (colon > 0 && f.slice(0, colon).toLowerCase() === name) out.push(f.slice(colon + 1).trim());
  }
  return out;
}

/** Decodes a chunked body at `at`; returns the payload and where the message ends, or null when incomplete or broken. */
function dechunk(text: string, at: number): { payload: string; end: number } | null {
  let payload = '';
  let i = at;
  for (;;) {
    const eol = text.indexOf('\r\n', i);
    if (eol < 0) return null;
    const size = parseInt(text.slice(i, eol).split(';')[0], 16);
    if (Number.isNaN(size)) return null;
    i = eol + 2;
    if (size === 0) {
      // Trailer fields, then a blank line.
      for (;;) {
        const t = text.indexOf('\r\n', i);
        if (t < 0) return null;
        if (t === i) return { payload, end: t + 2 };
        i = t + 2;
      }
    }
    if (text.length < i + size + 2) return null;
    payload += text.slice(i, i + size);
    i += size + 2;
  }
}

/**
 * Messages in `text`, one after another. `bodiless(i, line)` says whether message i has no body
 * whatever its headers (answers to HEAD, 1xx, 204, 304); `untilEnd`: a response with neither
 * length nor chunked runs to the end (requests have no body then).
 */
export function readMessages(text: string, opts: { bodiless?: (line: string, index: number) => boolean; untilEnd?: boolean } = {}): WireMessage[] {
  const out: WireMessage[] = [];
  let at = 0;
  while (at < text.length) {
    while (text.startsWith('\r\n', at)) at += 2;
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = text.slice(at, end).split('\r\n');
    const line = lines[0];
    const fields = lines.slice(1);
    const bodyAt = end + 4;
    const te = field(fields, 'transfer-encoding').join(',').toLowerCase();
    const cl = field(fields, 'content-length');
    if (opts.bodiless?.(line, out.length)) {
      out.push({ line, fields, raw: '', payload: '', complete: true });
      at = bodyAt;
    } else if (/(^|,)\s*chunked\s*$/.test(te)) {
      const d = dechunk(text, bodyAt);
      if (d === null) {
        out.push({ line, fields, raw: text.slice(bodyAt), payload: '', complete: false });
        break;
      }
      out.push({ line, fields, raw: text.slice(bodyAt, d.end), payload: d.payload, complete: true });
      at = d.end;
    } else if (cl.length > 0) {
      const n = Number(cl[0]);
      const raw = text.slice(bodyAt, bodyAt + n);
      out.push({ line, fields, raw, payload: raw, complete: raw.length === n });
      at = bodyAt + n;
      if (raw.length < n) break;
    } else if (opts.untilEnd) {
      const raw = text.slice(bodyAt);
      out.push({ line, fields, raw, payload: raw, complete: true });
      break;
    } else {
      out.push({ line, fields, raw: '', payload: '', complete: true });
      at = bodyAt;
    }
  }
  return out;
}

/** Responses a visitor got: 1xx heads are skipped; `head` says which requests were HEAD. */
export function readResponses(text: string, headRequests: boolean[] = []): WireMessage[] {
  const all = readMessages(text, {
    untilEnd: true,
    bodiless: (line, i) => /^HTTP\/1\.\d 1\d\d/.test(line) || /^HTTP\/1\.\d (204|304)/.test(line) || headRequests[i] === true,
  });
  return all.filter((m) => !/^HTTP\/1\.\d 1\d\d/.test(m.line));
}

/** The header lines of a message, lower-cased, for has/lacks checks. */
export function lowerFields(m: WireMessage): string[] {
  return m.fields.map((f) => f.toLowerCase());
}
