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

export function registerJwksRoute(app: HttpApp, identity: Identity): void {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary: 'Public keys that verify access tokens (current, upcoming and recently retired)',
        response: { 200: z.object({ keys: z.array(jwkSchema) }) },
      },
    },
    async (_request, reply) => {
      await identity.keys.reload();
      // Short enough that a cache never outlives the publication lead of a new key.
      void reply.header('cache-control', 'public, max-age=30');
      return {
        keys: identity.keys
          .jwks()
          .keys.map(({ kty, crv, x, kid, alg, use }) => ({ kty, crv, x, kid, alg, use })),
      };
    },
  );
}
