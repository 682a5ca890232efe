// A real webhook receiver on 127.0.0.1:0 that records every request (with the test clock's time)
// and answers what `respond` says: a status code, or 'hang' to never answer.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  /** Path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The test clock when it arrived. */
  at: number;
  /** What it was answered. */
  answer: number | 'hang';
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Bodies that were not the test message. */
  alerts(): Received[];
  close(): Promise<void>;
}

export async function startReceiver(opts: { respond?: (n: number, body: unknown, path: string) => number | 'hang'; clock?: () => number } = {}): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      const answer = opts.respond ? opts.respond(received.length + 1, body, req.url ?? '') : 200;
      received.push({ path: req.url ?? '', headers: req.headers, body, at: opts.clock ? opts.clock() : Date.now(), answer });
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    alerts: () => received.filter((r) => !isTestMessage(r.body)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function isTestMessage(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Object.keys(body).length === 1 && typeof (body as { text?: unknown }).text === 'string';
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
