import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta } from '@tessera/service-kit';
import { sql, type Transaction } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { levelForXp } from './levels.ts';
import { ensureStandings } from './repository.ts';

export type XpSource = 'submission' | 'review' | 'badge' | 'mission' | 'decay' | 'adjustment';

export interface XpGrant {
  userId: string;
  /** Positive to earn, negative to take (decay); XP never goes below zero. */
  amount: number;
  source: XpSource;
  /** With `source`, what makes the grant happen at most once (an event id, `user:day`, ...). */
  sourceId: string;
  at: Date;
  cause?: Cause;
}

export interface XpApplied {
  xp: number;
  level: number;
  previousLevel: number;
}

/**
 * Adds XP once per (source, source id): a repeat is a no-op that answers undefined. Moves the
 * level along the curve and, when it changes, writes `engagement.contributor.level-changed.v1` to
 * the outbox in the same transaction. The standing row is locked for the update, so two grants to
 * one user serialize and the level event is never lost or doubled.
 */
export async function awardXp(
  trx: Transaction<EngagementDB>,
  grant: XpGrant,
): Promise<XpApplied | undefined> {
  const [applied] = await awardXpToEach(trx, [grant]);
  return applied;
}

/**
 * awardXp for many users at once (one grant each), in a handful of statements whatever their
 * number: the decay job's batches. Answers, for each grant in order, what it did (undefined for a
 * repeat).
 */
export async function awardXpToEach(
  trx: Transaction<EngagementDB>,
  grants: readonly XpGrant[],
): Promise<(XpApplied | undefined)[]> {
  if (grants.length === 0) return [];
  const userOf = (grant: XpGrant) => grant.userId.toLowerCase();
  if (new Set(grants.map(userOf)).size !== grants.length) {
    throw new Error('awardXpToEach takes one grant per user');
  }
  const key = (source: string, sourceId: string) => `${source}\u0000${sourceId}`;
  const recorded = await trx
    .insertInto('xp_entries')
    .values(
      grants.map((grant) => ({
        user_id: grant.userId,
        source: grant.source,
        source_id: grant.sourceId,
        amount: grant.amount,
        at: grant.at,
      })),
    )
    .onConflict((oc) => oc.columns(['source', 'source_id']).doNothing())
    .returning(['source', 'source_id'])
    .execute();
  const fresh = new Set(recorded.map((row) => key(row.source, row.source_id)));
  const toApply = grants.filter((grant) => fresh.has(key(grant.source, grant.sourceId)));
  if (toApply.length === 0) return grants.map(() => undefined);

  await ensureStandings(
    trx,
    toApply.map((grant) => ({ userId: grant.userId, at: grant.at })),
  );
  // Locked in one order, so that two writers never wait on each other's rows crosswise.
  const before = new Map(
    (
      await trx
        .selectFrom('standings')
        .select(['user_id', 'xp', 'level'])
        .where('user_id', 'in', toApply.map(userOf))
        .orderBy('user_id')
        .forUpdate()
        .execute()
    ).map((row) => [row.user_id.toLowerCase(), row]),
  );
  const applied = new Map<XpGrant, XpApplied>();
  for (const grant of toApply) {
    const row = before.get(userOf(grant))!;
    const xp = Math.max(0, Number(row.xp) + grant.amount);
    applied.set(grant, { xp, level: levelForXp(xp), previousLevel: row.level });
  }
  const values = toApply.map((grant) => {
    const { xp, level } = applied.get(grant)!;
    return sql`(${grant.userId}::uuid, ${xp}::bigint, ${level}::integer, ${grant.at}::timestamptz)`;
  });
  await sql`
    update standings set xp = v.xp, level = v.level, updated_at = greatest(standings.updated_at, v.at)
    from (values ${sql.join(values)}) as v (user_id, xp, level, at)
    where standings.user_id = v.user_id`.execute(trx);

  await appendToOutbox(
    trx,
    toApply
      .filter((grant) => applied.get(grant)!.level !== applied.get(grant)!.previousLevel)
      .map((grant) =>
        buildEvent(
          'engagement.contributor.level-changed.v1',
          { user_id: grant.userId, level: applied.get(grant)!.level },
          eventMeta(grant.userId, grant.at, grant.cause),
        ),
      ),
  );
  return grants.map((grant) => applied.get(grant));
}
