import { type Principal, refuse, type TokenVerifier } from '@tessera/service-kit';
import { decodeJwt } from 'jose';
import { isSessionOpen } from '../db/sessions.ts';
import type { Identity } from '../runtime.ts';

/**
 * How identity authenticates its own callers: the kit's verifier over its own key set (no HTTP
 * round trip to itself), and then what only identity can know: that the session has not been
 * logged out or revoked, and that an API key has not been revoked. Other services accept a
 * token until it expires; identity refuses it as soon as it is revoked.
 */
export function identityTokenVerifier(runtime: () => Identity | undefined): TokenVerifier {
  return {
    async verify(token: string): Promise<Principal> {
      const identity = runtime();
      if (!identity) throw refuse.unavailable('AUTH_UNAVAILABLE', 'Identity is starting; retry shortly.');
      const principal = await identity.keys.verify(token);
      if (principal.companyId !== undefined) {
        const key = await identity.db
          .selectFrom('api_keys')
          .select('revoked_at')
          .where('id', '=', principal.userId)
          .executeTakeFirst();
        if (!key || key.revoked_at) {
          throw refuse.unauthenticated('API_KEY_REVOKED', 'The API key behind this token has been revoked.');
        }
        return principal;
      }
      const { sid } = decodeJwt(token);
      if (typeof sid !== 'string' || !(await isSessionOpen(identity.db, sid, identity.clock()))) {
        throw refuse.unauthenticated('SESSION_REVOKED', 'This session has ended; log in again.');
      }
      return principal;
    },
  };
}
