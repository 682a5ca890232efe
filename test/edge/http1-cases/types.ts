// The shape of the HTTP/1.1 conformance tables (one file per topic, in the spirit of llhttp's
// per-topic test suite, restated for a reverse proxy): each case is the exact bytes one side sends
// and what the edge must do with them. The same tables run at unit level (the head parser, the
// header filter and the chunked scanner: http1-cases.test.ts) and through a real edge in front of
// a byte-recording origin (http1-corpus.test.ts), and feed the differential test against nginx and
// HAProxy (http1-differential.test.ts).

/** The host every request case is routed by (a proxied record of the test edge). */
export const HOST = 'www.corpus.test';

/** One request as the origin must get it. */
export interface Forwarded {
  /** Its request line, as the edge writes it: `GET /x HTTP/1.1`. */
  line: string;
  /** The body bytes that follow its head, as forwarded (chunked bodies stay chunked). '' when none. */
  body?: string;
  /** Header lines the forwarded head must hold, compared case-insensitively (`host: www.corpus.test`). */
  has?: string[];
  /** Header names the forwarded head must not hold (lower case). */
  lacks?: string[];
}

export type RequestOutcome =
  /** Every request the origin gets, in order; the visitor gets an answer for each. */
  | { forward: Forwarded[] }
  /**
   * The edge answers itself with `status` and the stable `reason` code on its error page; the
   * connection closes (`open`: it carries on, the request was framed soundly but cannot be routed).
   * `after`: requests of the same connection forwarded before the refused one.
   */
  | { reject: { status: number; reason: string }; after?: Forwarded[]; open?: true }
  /**
   * The head went on and the body's framing broke part-way (a malformed chunked upload): the
   * origin connection is cut before it gets the faulty byte or any after it; the visitor gets a
   * 400 naming the chunked scanner's `reason`, and the connection closes.
   */
  | { badBody: { reason: string; line: string } };

export interface RequestCase {
  name: string;
  /** The exact bytes the visitor writes (latin1). */
  send: string;
  expect: RequestOutcome;
}

export type ResponseOutcome =
  /**
   * The visitor gets `status` with this reason phrase (the edge writes HTTP/1.1 itself) and exactly
   * `body` after the head; `has`/`lacks` as for requests. `close`: the edge closes after it.
   */
  | { pass: { status: number; reasonPhrase: string; body: string; has?: string[]; lacks?: string[]; close?: boolean } }
  /** The origin's answer cannot be passed on: a 502 page with this code (`origin_` + the parser's reason). */
  | { error: string }
  /**
   * The head went out and the body broke part-way (or never ended): the visitor's connection is
   * cut after `body` (the bytes it got after the head).
   */
  | { cutAfter: { status: number; body: string } };

export interface ResponseCase {
  name: string;
  /** The exact bytes the origin answers with (latin1). */
  answer: string;
  /** The origin closes its connection after answering. */
  close?: boolean;
  /** The visitor's request method (GET by default). */
  method?: string;
  /** HTTP/1.0 visitor (default HTTP/1.1). */
  http10?: boolean;
  expect: ResponseOutcome;
}

/** Body-level chunked case, for the scanner alone; the corpus wraps it in a request and a response. */
export interface ChunkedCase {
  name: string;
  /** The body bytes after the head (anything after the message's end is the next message). */
  body: string;
  /** What is passed on (trailers dropped, then CRLF), or the scanner's reason code. */
  expect: { passes: string } | { reason: string };
}

/** A response status line alone, for parseStatusLine; the corpus wraps it in an answer. */
export interface StatusLineCase {
  name: string;
  line: string;
  expect: { status: number; reasonPhrase: string } | { reason: string };
}
