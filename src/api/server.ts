// Builds the API: one Fastify instance, v4 envelope everywhere, everything under /client/v4 (plus
// the CA PEM at Cloudflare's root path). Validation runs without type coercion so that a wrong
// JSON type is a 400, and bodies are capped at 64 KiB.
// Tested in test/api/openapi.test.ts and test/api/uploads.test.ts (the body limit).
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { ApiStore, SecretBox } from '../store/index.ts';
import pkg from '../../package.json' with { type: 'json' };
import type { ApiContext } from './context.ts';
import { auth } from './auth.ts';
import { installErrorHandling } from './error-handler.ts';
import { API_PREFIX, openApiRoute, registerOpenApi } from './openapi.ts';
import { CA_PEM_PATH, EDGE_CA_PEM_PATH, caPemRoute } from './ca-pem.ts';
import { accountRoutes } from './accounts.ts';
import { zoneRoutes } from './zones.ts';
import { dnsRecordRoutes } from './dns-records.ts';
import { zoneSettingRoutes } from './zone-settings.ts';
import { aopZoneRoutes } from './aop-zone.ts';
import { aopHostnameRoutes } from './aop-hostnames.ts';
import { aopEffectiveRoutes } from './aop-effective.ts';
import { customCertificateRoutes } from './custom-certificates.ts';
import { tokenRoutes } from './tokens.ts';
import { alertingRoutes } from './alerting/index.ts';
import { certificatePackRoutes } from './certificate-packs.ts';
import { dashboard } from './dashboard.ts';
import { RequestLog } from './request-log.ts';
import { installWaitActive } from './wait-active.ts';
import { metricsRoute, type MetricsOptions } from './metrics.ts';

export interface ApiDeps {
  store: ApiStore;
  secretBox: SecretBox;
  config: Readonly<Config>;
  /** A pino logger, or false (the default) for none. */
  logger?: Logger | false;
  /** Clock for status derivation and upload validity checks (tests move it). */
  now?: () => number;
  /** `GET /metrics` (custom edge certificate expiry). */
  metrics?: MetricsOptions;
}

export const BODY_LIMIT = 64 * 1024;

/** The API server, routes registered, neither ready nor listening. */
export async function buildApiServer(deps: ApiDeps): Promise<FastifyInstance> {
  const options: FastifyServerOptions = {
    bodyLimit: BODY_LIMIT,
    // Host names reach 253 characters in `{hostname}` path segments.
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    // A request that arrives while the server closes is served, not answered 503: at a restart with
    // --take-over the successor already listens, and the store stays open until the server is closed.
    return503OnClosing: false,
  };
  if (deps.logger) options.loggerInstance = deps.logger;
  else options.logger = false;
  options.logController = new RequestLog();
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>();

  const closing = new AbortController();
  const ctx: ApiContext = { store: deps.store, secretBox: deps.secretBox, config: deps.config, now: deps.now ?? Date.now, closing: closing.signal };
  app.decorate('ctx', ctx);
  app.addHook('preClose', async () => closing.abort());

  installErrorHandling(app);
  installWaitActive(app, ctx);
  await registerOpenApi(app, pkg.version);
  await app.register(auth);

  for (const path of [CA_PEM_PATH, EDGE_CA_PEM_PATH]) caPemRoute(app, path, true);
  metricsRoute(app, deps.metrics);
  await app.register(
    async (api) => {
      for (const path of [CA_PEM_PATH, EDGE_CA_PEM_PATH]) caPemRoute(api, path);
      openApiRoute(api);
      await api.register(accountRoutes);
      await api.register(zoneRoutes);
      await api.register(dnsRecordRoutes);
      await api.register(zoneSettingRoutes);
      await api.register(aopZoneRoutes);
      await api.register(aopHostnameRoutes);
      await api.register(aopEffectiveRoutes);
      await api.register(customCertificateRoutes);
      await api.register(tokenRoutes);
      await api.register(alertingRoutes);
      await api.register(certificatePackRoutes);
    },
    { prefix: API_PREFIX },
  );
  await app.register(dashboard);
  return app;
}
