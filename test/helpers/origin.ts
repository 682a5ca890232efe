// Test origins on 127.0.0.1:0: a Node HTTPS server that (optionally) requires a client
// certificate from given CAs, as an AOP origin does, and a plain HTTP one. Both record every
// connection (with the client certificate's SHA-256 and whether the TLS session was resumed) and
// every request, and by default echo what they saw as JSON.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { PemPair } from '../../src/pki/index.ts';

export interface OriginConnection {
  id: number;
  /** SHA-256 of the client certificate presented, lower-case hex; null when none. */
  fingerprint: string | null;
  resumed: boolean;
  servername: string | null;
  at: number;
}

export interface OriginRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  connection: OriginConnection;
  bodyBytes: number;
  at: number;
}

export interface EchoBody {
  fingerprint: string | null;
  connection: number;
  resumed: boolean;
  servername: string | null;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, connection: OriginConnection) => void;

export interface TestOrigin {
  readonly port: number;
  readonly connections: OriginConnection[];
  readonly requests: OriginRequest[];
  /** Number of connections per presented fingerprint ('none' for no certificate). */
  connectionsByFingerprint(): Map<string, number>;
  /** Failed TLS handshakes (e.g. no or wrong client certificate). */
  readonly tlsErrors: string[];
  close(): Promise<void>;
}

export interface TlsOriginOptions {
  cert: PemPair;
  /** CAs whose client certificates the origin accepts; omit to not ask for one. */
  clientCa?: string | string[];
  /** Ask for a certificate but let the handshake pass without one (nginx `optional` style). Default false. */
  optional?: boolean;
  handler?: OriginHandler;
  /** Limit TLS to one version (e.g. 'TLSv1.2' to see refusals during the handshake). */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

const CONN = Symbol('originConnection');

function fingerprintOfSocket(socket: TLSSocket): string | null {
  const cert = socket.getPeerX509Certificate();
  return cert ? cert.fingerprint256.replaceAll(':', '').toLowerCase() : null;
}

/** Reads the body (counting bytes), then answers with what the origin saw. */
export const echoHandler: OriginHandler = (req, res, connection) => {
  let bodyBytes = 0;
  req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
  req.on('end', () => {
    const body: EchoBody = {
      fingerprint: connection.fingerprint,
      connection: connection.id,
      resumed: connection.resumed,
      servername: connection.servername,
      method: req.method!,
      url: req.url!,
      headers: req.headers,
      bodyBytes,
    };
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'x-origin-fingerprint': connection.fingerprint ?? 'none', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
};

let connectionIds = 0;

function track(server: http.Server, tls: boolean, handler: OriginHandler): Omit<TestOrigin, 'port' | 'close'> {
  const connections: OriginConnection[] = [];
  const requests: OriginRequest[] = [];
  const tlsErrors: string[] = [];
  const register = (socket: Socket, conn: OriginConnection) => {
    (socket as unknown as Record<symbol, OriginConnection>)[CONN] = conn;
    connections.push(conn);
  };
  if (tls) {
    server.on('secureConnection', (socket: TLSSocket) => {
      register(socket, {
        id: ++connectionIds,
        fingerprint: fingerprintOfSocket(socket),
        resumed: socket.isSessionReused(),
        servername: (socket as TLSSocket & { servername?: string | false }).servername || null,
        at: Date.now(),
      });
    });
    server.on('tlsClientError', (err: Error) => tlsErrors.push((err as { code?: string }).code ?? err.message));
  } else {
    server.on('connection', (socket: Socket) => register(socket, { id: ++connectionIds, fingerprint: null, resumed: false, servername: null, at: Date.now() }));
  }
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const conn = (req.socket as unknown as Record<symbol, OriginConnection>)[CONN];
    const record: OriginRequest = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, connection: conn, bodyBytes: 0, at: Date.now() };
    requests.push(record);
    req.on('data', (chunk: Buffer) => (record.bodyBytes += chunk.length));
    handler(req, res, conn);
  });
  return {
    connections,
    requests,
    tlsErrors,
    connectionsByFingerprint() {
      const counts = new Map<string, number>();
      for (const c of connections) counts.set(c.fingerprint ?? 'none', (counts.get(c.fingerprint ?? 'none') ?? 0) + 1);
      return counts;
    },
  };
}

function listen(server: http.Server, extra: Omit<TestOrigin, 'port' | 'close'>): Promise<TestOrigin> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        ...extra,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export function startTlsOrigin(opts: TlsOriginOptions): Promise<TestOrigin> {
  const server = https.createServer({
    key: opts.cert.keyPem,
    cert: opts.cert.certPem,
    ca: opts.clientCa,
    requestCert: opts.clientCa !== undefined,
    rejectUnauthorized: opts.clientCa !== undefined && !opts.optional,
    maxVersion: opts.maxVersion,
    keepAliveTimeout: 10_000,
  });
  return listen(server, track(server, true, opts.handler ?? echoHandler));
}

export function startHttpOrigin(opts: { handler?: OriginHandler } = {}): Promise<TestOrigin> {
  const server = http.createServer({ keepAliveTimeout: 10_000 });
  return listen(server, track(server, false, opts.handler ?? echoHandler));
}
