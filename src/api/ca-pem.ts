// The installation's CA certificates, public, as PEM, both at the root and under the API prefix:
// - the origin-pull CA, for origins to trust (global AOP), at Cloudflare's path;
// - the edge CA, which signs the edge certificates visitors see, for clients to trust.
// Tested in test/api/openapi.test.ts and test/api/restart.test.ts.
import type { FastifyInstance } from 'fastify';
import type { InstallationPki } from '../domain/index.ts';
import { API_ERRORS, ApiError } from './errors.ts';

export const CA_PEM_PATH = '/ssl/static/authenticated_origin_pull_ca.pem';
export const EDGE_CA_PEM_PATH = '/ssl/static/edge_ca.pem';

const CA_FILES: Record<string, { pem: (pki: InstallationPki) => string; summary: string }> = {
  [CA_PEM_PATH]: { pem: (pki) => pki.originPullCaPem, summary: "The installation's origin-pull CA (PEM) for origins to trust" },
  [EDGE_CA_PEM_PATH]: { pem: (pki) => pki.edgeCaPem, summary: "The installation's edge CA (PEM), issuer of the edge certificates visitors see" },
};

/** `hide` keeps the root copy out of the OpenAPI document (it documents the prefixed one). */
export function caPemRoute(app: FastifyInstance, url: string, hide = false): void {
  const file = CA_FILES[url];
  app.get(
    url,
    {
      config: { auth: 'public' },
      schema: { hide, tags: ['Global Authenticated Origin Pulls'], summary: file.summary, produces: ['application/x-pem-file'] },
    },
    async (_request, reply) => {
      const pki = await app.ctx.store.getPki();
      if (!pki) throw new ApiError(API_ERRORS.pkiMissing);
      return reply.type('application/x-pem-file').send(file.pem(pki));
    },
  );
}
