// Shared by the edge tests: an Edge on 127.0.0.1:0 fed with hand-built ConfigData, and a visitor
// client that sends requests with a chosen Host.
import http from 'node:http';
import { Agent, request } from 'undici';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.ts';
import { Edge, type EdgeOptions } from '../../src/edge/index.ts';
import { buildSnapshot, SnapshotBuildCache } from '../../src/sync/index.ts';
import type { ConfigData } from '../../src/domain/index.ts';
import type { TestInstallation } from '../helpers/pki.ts';

export interface TestEdge {
  edge: Edge;
  httpPort: number;
  httpsPort: number;
  registry: Registry;
  apply(data: ConfigData): void;
  close(): Promise<void>;
}

export async function startTestEdge(installation: TestInstallation, data: ConfigData, opts: Partial<EdgeOptions> = {}): Promise<TestEdge> {
  const registry = new Registry();
  const edge = new Edge({
    httpListen: { host: '127.0.0.1', port: 0 },
    httpsListen: { host: '127.0.0.1', port: 0 },
    timeouts: { connectMs: 2_000, responseMs: 5_000, keepAliveMs: 10_000 },
    drainTimeoutMs: 5_000,
    nodeTag: 'TEST',
    registry,
    // The CI runs the edge tests once more with ORIGINPULL_EDGE_TCP_HANDLES=0 (.ci/run).
    tcpHandles: loadConfig({ env: { ORIGINPULL_EDGE_TCP_HANDLES: process.env.ORIGINPULL_EDGE_TCP_HANDLES } }).edgeTcpHandles,
    ...opts,
  });
  const cache = new SnapshotBuildCache();
  const apply = (d: ConfigData) => edge.apply(buildSnapshot(d, installation.secretBox, { cache }));
  apply(data);
  const addresses = await edge.start();
  return {
    edge,
    httpPort: addresses.http?.port ?? 0,
    httpsPort: addresses.https?.port ?? 0,
    registry,
    apply,
    close: () => edge.destroy(),
  };
}

export interface VisitorResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export class Visitor {
  readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });

  async get(port: number, host: string, path = '/', opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<VisitorResponse> {
    const res = await request(`http://127.0.0.1:${port}${path}`, {
      method: (opts.method ?? 'GET') as 'GET',
      headers: { host, ...opts.headers },
      body: opts.body,
      dispatcher: this.agent,
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers,
      text,
      json<T>() {
        return JSON.parse(text) as T;
      },
    };
  }

  /** Through node:http, which sends headers (e.g. Connection tokens) exactly as given. */
  raw(port: number, host: string, path: string, headers: Record<string, string>): Promise<VisitorResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, headers: { host, ...headers }, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            text,
            json<T>() {
              return JSON.parse(text) as T;
            },
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
