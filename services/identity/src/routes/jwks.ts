import type { HttpApp } from '@tessera/service-kit';
import { z } from 'zod';
import type { Identity } from '../runtime.ts';

const jwkSchema = z.object({
  kty: z.string().optional(),
  crv: z.string().optional(),
  x: z.string().optional(),
  kid: z.string().optional(),
  alg: z.string().optional(),
  use: z.string().optional(),
});

/**
 * Verifiers may cache the set this long: they re-fetch at once when a token names a key they do
 * not know (jose's remote JWKS does), so a key published during the cache still verifies.
 */
const JWKS_CACHE_CONTROL = 'public, max-age=300';

export function registerJwksRoute(app: HttpApp, identity: Identity): void {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary: 'Public keys that verify access tokens (current, upcoming and recently retired)',
        response: { 200: z.object({ keys: z.array(jwkSchema) }), 304: z.null() },
      },
    },
    async (request, reply) => {
      // From memory: the key table is re-read at most once per refresh interval, not per request.
      await identity.keys.refreshIfStale();
      const { body, etag } = identity.keys.publicJwks();
      void reply.header('cache-control', JWKS_CACHE_CONTROL).header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
      return body;
    },
  );
}
