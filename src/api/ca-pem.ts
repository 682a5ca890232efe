// The origin-pull CA, for origins to trust (global AOP): no auth, PEM, at Cloudflare's path both at
// the root and under the API prefix.
import type { FastifyInstance } from 'fastify';
import { API_ERRORS, ApiError } from './errors.ts';

export const CA_PEM_PATH = '/ssl/static/authenticated_origin_pull_ca.pem';

/** `hide` keeps the root copy out of the OpenAPI document (it documents the prefixed one). */
export function caPemRoute(app: FastifyInstance, url: string, hide = false): void {
  app.get(
    url,
    {
      config: { auth: 'public' },
      schema: { hide, tags: ['Global Authenticated Origin Pulls'], summary: "The installation's origin-pull CA (PEM) for origins to trust", produces: ['application/x-pem-file'] },
    },
    async (_request, reply) => {
      const pki = await app.ctx.store.getPki();
      if (!pki) throw new ApiError(API_ERRORS.pkiMissing);
      return reply.type('application/x-pem-file').send(pki.originPullCaPem);
    },
  );
}
