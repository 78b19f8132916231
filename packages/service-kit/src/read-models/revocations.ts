import { type Kysely, sql } from 'kysely';
import type { AnyDatabase, KitTables } from '../db/kit-migrations.ts';
import type { Principal, TokenVerifier } from '../http/auth.ts';
import type { EventConsumerOptions, HandlerMap } from '../messaging/consumer.ts';
import { refusal } from '../refusal.ts';

/**
 * Identity's revoked sessions and API keys, as every other service sees them: the kit consumes
 * `identity.principal.revoked.v1` into `revoked_principals` (a kit table) and refuses a token that
 * carries a revoked session (`sid`) or API key (`sub` of a key's token). The check reads the shared
 * table, so every instance behind one durable consumer agrees within the cache's lifetime.
 * A row is needed only until the last token carrying its principal has expired; then it is pruned.
 */
export type RevokedKind = 'session' | 'api_key';

export const REVOCATION_EVENT = 'identity.principal.revoked.v1';

/** The durable consumer (and inbox key) of a service's revocations: one per service. */
export function revocationConsumerName(service: string): string {
  return `${service}-revocations`;
}

export function revocationHandlers<DB>(): HandlerMap<DB> {
  return {
    'identity.principal.revoked.v1': async (event, trx) => {
      const { kind, principal_id, revoked_at, tokens_expire_by } = event.data;
      await (trx as unknown as Kysely<KitTables>)
        .insertInto('revoked_principals')
        .values({ kind, principal_id: principal_id.toLowerCase(), revoked_at, tokens_expire_by })
        .onConflict((oc) =>
          oc.columns(['kind', 'principal_id']).doUpdateSet({
            tokens_expire_by: sql`greatest(revoked_principals.tokens_expire_by, excluded.tokens_expire_by)`,
          }),
        )
        .execute();
    },
  };
}

/** The kit's consumer of identity's revocations for `service` (only its one event type). */
export function revocationConsumer<DB extends KitTables>(
  service: string,
): Omit<EventConsumerOptions<DB>, 'db' | 'bus' | 'logger'> {
  return {
    name: revocationConsumerName(service),
    producer: 'identity',
    filter: REVOCATION_EVENT,
    handlers: revocationHandlers<DB>(),
  };
}

/** What a token's revocation is looked up by, or null for a token that names neither. */
export function revocationKey(principal: Principal): { kind: RevokedKind; id: string } | null {
  if (principal.companyId !== undefined) return { kind: 'api_key', id: principal.userId.toLowerCase() };
  if (principal.sessionId !== undefined) return { kind: 'session', id: principal.sessionId.toLowerCase() };
  return null;
}

export async function isRevoked(db: AnyDatabase, kind: RevokedKind, id: string): Promise<boolean> {
  const row = await (db as Kysely<KitTables>)
    .selectFrom('revoked_principals')
    .select('principal_id')
    .where('kind', '=', kind)
    .where('principal_id', '=', id)
    .executeTakeFirst();
  return row !== undefined;
}

/** Deletes revocations whose tokens have all expired. Returns how many went. */
export async function pruneRevocations(db: AnyDatabase, now: Date): Promise<number> {
  const result = await (db as Kysely<KitTables>)
    .deleteFrom('revoked_principals')
    .where('tokens_expire_by', '<', now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** At most this long may an answer be reused: a revocation reaches every instance well within a second. */
export const REVOCATION_CACHE_MS = 250;
const CACHE_LIMIT = 10_000;

/**
 * `verifier`, then the revocation read model: a token whose session or API key was revoked is
 * refused (401 `TOKEN_REVOKED`). Answers are cached per principal for at most `cacheMs` (≤ 250 ms).
 */
export function withRevocationCheck(
  verifier: TokenVerifier,
  db: AnyDatabase,
  options: { cacheMs?: number; now?: () => number } = {},
): TokenVerifier {
  const cacheMs = Math.min(options.cacheMs ?? REVOCATION_CACHE_MS, REVOCATION_CACHE_MS);
  const now = options.now ?? Date.now;
  const cache = new Map<string, { revoked: boolean; at: number }>();
  return {
    async verify(token) {
      const principal = await verifier.verify(token);
      const key = revocationKey(principal);
      if (!key) return principal;
      const cacheKey = `${key.kind}:${key.id}`;
      const t = now();
      let hit = cache.get(cacheKey);
      if (!hit || t - hit.at >= cacheMs) {
        if (cache.size >= CACHE_LIMIT) cache.clear();
        hit = { revoked: await isRevoked(db, key.kind, key.id), at: t };
        cache.set(cacheKey, hit);
      }
      if (hit.revoked) {
        throw refusal(
          'unauthenticated',
          'TOKEN_REVOKED',
          key.kind === 'session'
            ? 'This session has ended; log in again.'
            : 'The API key behind this token has been revoked.',
        );
      }
      return principal;
    },
  };
}
