// The edge's failures, typed once: each has a stable `code` to switch on and log, the HTTP status
// the visitor sees (Cloudflare's 52x family for origin failures) and a short title for the page.
// Tested in test/edge/classify-upstream-error.test.ts and test/edge/phases-routing.test.ts.

export class EdgeError extends Error {
  readonly code: string = 'edge_error';
  readonly status: number = 500;
  readonly title: string = 'Internal edge error';
  /** What the visitor's page says; the message itself (with its detail) is for the log. */
  get visitorMessage(): string {
    return this.message;
  }
}

/** No proxied record for the visitor's host name. */
export class UnknownHostError extends EdgeError {
  override readonly code = 'unknown_host';
  override readonly status = 404;
  override readonly title = 'Host not configured on this edge';
}

/** The host name has a DNS-only record (`proxied: false`): visitors should not reach the edge for it. */
export class NotProxiedHostError extends EdgeError {
  override readonly code = 'host_not_proxied';
  override readonly status = 404;
  override readonly title = 'Host not proxied by this edge';
}

/** The request itself cannot be proxied (e.g. a malformed target). */
export class BadRequestError extends EdgeError {
  override readonly code = 'bad_request';
  override readonly status = 400;
  override readonly title = 'Bad request';
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  421: 'Misdirected Request',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/**
 * A request the edge cannot parse or frame safely (400, 405, 431, 501, 505). `code` is the parser's
 * stable reason (`bare_lf`, `invalid_target`, `conflicting_content_length`…).
 */
export class RequestRejectedError extends EdgeError {
  override readonly code: string;
  override readonly status: number;
  override readonly title: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.code = reason;
    this.status = status;
    this.title = STATUS_TITLES[status] ?? 'Bad Request';
  }
}

/** Something went wrong towards the origin; subclasses name what. */
export class OriginError extends EdgeError {
  override readonly code: string = 'origin_error';
  override readonly status: number = 502;
  override readonly title: string = 'Bad gateway';
  /**
   * Towards the origin, the detail (addresses, TLS stack messages, advice meant for the operator)
   * is the server's business: the visitor's page names only what failed, by its status.
   */
  override get visitorMessage(): string {
    return VISITOR_MESSAGES[this.status] ?? VISITOR_MESSAGES[502]!;
  }
}

/**
 * The origin's answer breaks HTTP/1.1 (status line, header fields, framing): a 502 whose `code`
 * is `origin_` and the parser's reason (`origin_invalid_reason_phrase`, `origin_bad_chunk_size`…).
 */
export class OriginProtocolError extends OriginError {
  override readonly code: string;
  constructor(reason: string, message: string) {
    super(message);
    this.code = 'origin_' + reason;
  }
}

const VISITOR_MESSAGES: Record<number, string> = {
  502: 'The edge could not get a valid answer from the origin web server.',
  521: 'The origin web server refused the connection.',
  522: 'The connection to the origin web server timed out.',
  523: 'The origin web server is unreachable.',
  524: 'The origin web server did not answer in time.',
  525: 'The TLS handshake between the edge and the origin web server failed.',
  526: 'The origin web server presented a certificate the edge could not verify.',
};

export class OriginRefusedError extends OriginError {
  override readonly code = 'origin_refused';
  override readonly status = 521;
  override readonly title = 'Web server is down';
}

export class OriginConnectTimeoutError extends OriginError {
  override readonly code = 'origin_connect_timeout';
  override readonly status = 522;
  override readonly title = 'Connection timed out';
}

export class OriginUnreachableError extends OriginError {
  override readonly code = 'origin_unreachable';
  override readonly status = 523;
  override readonly title = 'Origin is unreachable';
}

export class OriginResponseTimeoutError extends OriginError {
  override readonly code = 'origin_response_timeout';
  override readonly status = 524;
  override readonly title = 'A timeout occurred';
}

/** TLS handshake with the origin failed, including the origin refusing our client certificate. */
export class OriginHandshakeError extends OriginError {
  override readonly code = 'origin_tls_handshake_failed';
  override readonly status = 525;
  override readonly title = 'SSL handshake failed';
}

/** Under `strict`, the origin's certificate did not verify (chain, expiry or name). */
export class OriginCertificateError extends OriginError {
  override readonly code = 'origin_certificate_invalid';
  override readonly status = 526;
  override readonly title = 'Invalid SSL certificate';
}

/** The client certificate chosen for this host name cannot be used (its key did not open or parse). */
export class ClientCertificateUnusableError extends OriginError {
  override readonly code = 'client_certificate_unusable';
  override readonly status = 502;
  override readonly title = 'Client certificate unusable';
}

/**
 * Not a failure: the zone sends this visitor to another scheme (`always_use_https`, SSL mode
 * `off`). Answered with a 301 to `location` and no page, and not counted as an error.
 */
export class VisitorRedirect extends EdgeError {
  override readonly code = 'redirect';
  override readonly status = 301;
  override readonly title = 'Moved Permanently';
  readonly location: string;
  constructor(location: string, why: string) {
    super(why);
    this.location = location;
  }
}

/**
 * The connection's TLS version is outside the range the request's zone allows (`min_tls_version`,
 * `tls_1_3`): it reached the edge with no SNI or with another zone's name, so the ClientHello gate
 * could not apply the zone's range. 421: the visitor may retry on a connection of its own.
 */
export class TlsVersionMisdirectedError extends EdgeError {
  override readonly code = 'tls_version_not_allowed';
  override readonly status = 421;
  override readonly title = 'Misdirected Request';
}

/** An upgrade (WebSocket or other) to a zone whose `websockets` setting is off. */
export class UpgradeRefusedError extends EdgeError {
  override readonly code = 'websockets_disabled';
  override readonly status = 403;
  override readonly title = 'WebSockets disabled';
}
