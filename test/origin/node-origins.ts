// Small origins made with node:https for verify-origin's tests, each one way an origin can treat
// client certificates, plus the non-TLS cases (plain HTTP, a silent port, a closed port).
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { PemPair } from '../../src/pki/index.ts';

export type NodeOriginMode =
  /** Refuses in the TLS handshake without a valid certificate (like Apache/HAProxy/Caddy enforce). */
  | 'enforce-tls'
  /** Completes the handshake, answers 400 "No required SSL certificate was sent" (like nginx `on`). */
  | 'enforce-http'
  /** Serves without a certificate, refuses an invalid one (the "log" phase). */
  | 'log'
  /** Never asks for a certificate. */
  | 'open';

export interface NodeOrigin {
  port: number;
  close(): Promise<void>;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

export async function startNodeOrigin(mode: NodeOriginMode, tls: { server: PemPair; clientCa: string }, maxVersion?: 'TLSv1.2' | 'TLSv1.3'): Promise<NodeOrigin> {
  const server = createHttpsServer(
    {
      cert: tls.server.certPem,
      key: tls.server.keyPem,
      ca: tls.clientCa,
      requestCert: mode !== 'open',
      rejectUnauthorized: mode === 'enforce-tls',
      maxVersion,
    },
    (req, res) => {
      const sock = req.socket as TLSSocket;
      const presented = Object.keys(sock.getPeerCertificate?.() ?? {}).length > 0;
      if (mode === 'enforce-http' && !sock.authorized) {
        res.statusCode = 400;
        const why = presented ? 'The SSL certificate error' : 'No required SSL certificate was sent';
        return res.end(`<html><head><title>400 ${why}</title></head><body>${why}</body></html>`);
      }
      if (mode === 'log' && presented && !sock.authorized) {
        res.statusCode = 400;
        return res.end('<html><head><title>400 The SSL certificate error</title></head></html>');
      }
      res.end(`hello, client certificate ${sock.authorized ? 'verified' : 'none'}\n`);
    },
  );
  const port = await listen(server);
  return { port, close: closer(server) };
}

/** A plain-HTTP origin (SSL mode Flexible), the mistake verify-origin must name. */
export async function startPlainHttpOrigin(): Promise<NodeOrigin> {
  const server = createHttpServer((_req, res) => res.end('plain\n'));
  const port = await listen(server);
  return { port, close: closer(server) };
}

/** Accepts TCP and never says a word: verify-origin must time out, not hang. */
export async function startSilentOrigin(): Promise<NodeOrigin> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
