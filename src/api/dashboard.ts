// The dashboard (web/, built by `npm run build:web` into web/dist) served at `/` on the API
// listener. It adds no routes: one root onRequest hook answers only requests that matched no API
// route, so unknown /client/v4 paths keep their JSON 404/405 envelopes and the OpenAPI document
// stays the API's. Files under web/dist are served as they are (hashed /assets/ cached for ever),
// other browser GETs get index.html (the single-page app routes in the URL fragment), and without
// a build a 503 page says how to make one.
// Tested in test/web/dashboard-plugin.test.ts, and in the browser in test/web/dashboard.test.ts.
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CA_PEM_PATH } from './ca-pem.ts';
import { API_PREFIX } from './openapi.ts';

/** web/dist of this checkout. */
export const DASHBOARD_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface DashboardOptions {
  /** Folder with the built dashboard (default: web/dist). */
  root?: string;
}

// The bundle loads only its own script and stylesheet and talks only to this origin.
const HTML_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>originpull: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1>dashboard not built: run npm run build:web</h1>
<p>The originpull API is running (it lives under <code>${API_PREFIX}</code>), but the dashboard's files are missing.
Build them with <code>npm run build:web</code> in the originpull checkout; they are served as soon as they exist.</p>
</body></html>
`;

function isApiPath(path: string): boolean {
  return path === API_PREFIX || path.startsWith(`${API_PREFIX}/`) || path === CA_PEM_PATH;
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/** The file under `root` that `urlPath` names, relative to root, or null. */
async function fileUnder(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const rel = relative(root, resolve(root, `.${decoded}`));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  try {
    return (await stat(join(root, rel))).isFile() ? rel : null;
  } catch {
    return null;
  }
}

async function dashboardPlugin(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const root = resolve(opts.root ?? DASHBOARD_ROOT);
  // serve: false — no routes (see the header); only reply.sendFile, with its path checks.
  await app.register(fastifyStatic, { root, serve: false });

  async function sendIndex(reply: FastifyReply): Promise<FastifyReply> {
    if (!(await fileUnder(root, '/index.html'))) {
      return reply.code(503).type('text/html; charset=utf-8').headers({ 'cache-control': 'no-store', 'retry-after': '60' }).send(NOT_BUILT_PAGE);
    }
    return reply.headers(HTML_HEADERS).type('text/html; charset=utf-8').sendFile('index.html', { cacheControl: false });
  }

  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404 || (request.method !== 'GET' && request.method !== 'HEAD')) return;
    const path = request.url.split('?')[0];
    if (isApiPath(path)) return;
    if (path === '/' || path === '/index.html') return sendIndex(reply);
    const file = await fileUnder(root, path);
    if (file !== null) {
      reply.header('x-content-type-options', 'nosniff');
      if (file.startsWith('assets/')) return reply.sendFile(file, { maxAge: '365d', immutable: true });
      return reply.header('cache-control', 'no-cache').sendFile(file, { cacheControl: false });
    }
    // A page of the single-page app (a browser navigation); anything else keeps the JSON 404.
    if (wantsHtml(request) && !/\.[a-z0-9]{1,8}$/i.test(path)) return sendIndex(reply);
  });
}

/** Registers the dashboard on the API server (root level, so its hook sees every unmatched request). */
export const dashboard = fp(dashboardPlugin, { name: 'originpull-dashboard', fastify: '5.x' });
