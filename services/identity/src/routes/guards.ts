import { type HttpApp, type Principal, principalOf, refusal, refuse } from '@tessera/service-kit';
import { findUserById, type UserRow } from '../db/users.ts';
import type { Identity } from '../runtime.ts';

/** Fastify's request and reply types, as the kit's app hands them out. */
export type FastifyRequest = Parameters<HttpApp['authenticate']>[0];
export type FastifyReply = Parameters<HttpApp['authenticate']>[1];

export const accountSuspended = () => refuse.forbidden('This account is suspended.', 'ACCOUNT_SUSPENDED');

/** A person's token, not a company API key's. */
export function userPrincipal(request: FastifyRequest): Principal {
  const principal = principalOf(request);
  if (principal.companyId !== undefined) {
    throw refuse.forbidden('This needs a user access token, not an API key token.', 'USER_TOKEN_REQUIRED');
  }
  return principal;
}

/** What a valid token of an account erased since is told. */
export const accountGone = () => refuse.unauthenticated('UNAUTHENTICATED', 'This account no longer exists.');

export async function currentUser(identity: Identity, request: FastifyRequest): Promise<UserRow> {
  const principal = userPrincipal(request);
  const user = await findUserById(identity.db, principal.userId);
  if (!user || user.status === 'erased') throw accountGone();
  return user;
}

export function assertActive(user: UserRow): void {
  if (user.status === 'suspended') throw accountSuspended();
}

/** 429 with Retry-After, in seconds. */
export function tooManyAttempts(reply: FastifyReply, retryAfterS: number, code = 'TOO_MANY_ATTEMPTS'): never {
  void reply.header('retry-after', String(retryAfterS));
  throw refusal('rate_limited', code, `Too many failed attempts; retry in ${retryAfterS} s.`, {
    retry_after: retryAfterS,
  });
}
