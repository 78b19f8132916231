import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta } from '@tessera/service-kit';
import { sql, type Transaction } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { levelForXp } from './levels.ts';

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
  const recorded = await trx
    .insertInto('xp_entries')
    .values({
      user_id: grant.userId,
      source: grant.source,
      source_id: grant.sourceId,
      amount: grant.amount,
      at: grant.at,
    })
    .onConflict((oc) => oc.columns(['source', 'source_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!recorded) return undefined;

  await trx
    .insertInto('standings')
    .values({ user_id: grant.userId, xp: 0, updated_at: grant.at })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  const before = await trx
    .selectFrom('standings')
    .select(['xp', 'level'])
    .where('user_id', '=', grant.userId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const xp = Math.max(0, Number(before.xp) + grant.amount);
  const level = levelForXp(xp);
  await trx
    .updateTable('standings')
    .set({ xp, level, updated_at: sql`greatest(updated_at, ${grant.at})` })
    .where('user_id', '=', grant.userId)
    .execute();
  if (level !== before.level) {
    await appendToOutbox(trx, [
      buildEvent(
        'engagement.contributor.level-changed.v1',
        { user_id: grant.userId, level },
        eventMeta(grant.userId, grant.at, grant.cause),
      ),
    ]);
  }
  return { xp, level, previousLevel: before.level };
}
