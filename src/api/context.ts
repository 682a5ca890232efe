// What every route reaches through `app.ctx` (decorated once at the root) and what the auth hook
// leaves on the request. Routes take their collaborators from here, never from module state.
// Tested in test/api/auth.test.ts (the auth rules) and test/api/wait-active.test.ts (`closing`).
import type { ApiToken } from '../domain/index.ts';
import type { ApiStore, SecretBox } from '../store/index.ts';
import type { Config } from '../config.ts';

export interface ApiContext {
  store: ApiStore;
  secretBox: SecretBox;
  config: Readonly<Config>;
  now: () => number;
  /** Aborted when the server starts closing, so `?wait=active` requests end promptly. */
  closing: AbortSignal;
}

/** Who may call a route: see auth.ts. */
export type AuthRule = 'public' | 'any' | 'zone' | 'account' | 'admin';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: ApiContext;
  }
  interface FastifyRequest {
    /** The authenticated token; null only on public routes. */
    token: ApiToken | null;
  }
  interface FastifyContextConfig {
    /** Default `zone`: any valid token, limited to its zones when the path names one. */
    auth?: AuthRule;
  }
}
