import { parseEvent, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { userStatus } from '../users/index.ts';

type Db = Kysely<EngagementDB>;

/**
 * Pays a money bonus (badges, missions): writes `engagement.bonus.awarded.v1` to the outbox, or,
 * while the user is suspended, holds it (`held_bonuses`) until they are reinstated. A suspended
 * user's work already in flight still counts (XP, badges, mission progress); only money waits for
 * the suspension's outcome: paid on reinstatement, never on erasure. The caller's transaction holds
 * the user's lock (`lockUsersOf`), as does the one that applies the reinstatement, so a hold is
 * never written beside a release that misses it.
 */
export async function payOrHold(
  trx: Db,
  bonus: TesseraEvent<'engagement.bonus.awarded.v1'>,
  now: Date,
): Promise<'paid' | 'held'> {
  const userId = bonus.data.user_id.toLowerCase();
  if ((await userStatus(trx, userId))?.status !== 'suspended') {
    await appendToOutbox(trx, [bonus]);
    return 'paid';
  }
  await trx
    .insertInto('held_bonuses')
    .values({
      event_id: bonus.id,
      bonus_id: bonus.data.bonus_id.toLowerCase(),
      user_id: userId,
      event: JSON.stringify(bonus),
      held_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return 'held';
}

/** Reinstated: the bonuses held meanwhile are published, in the order they were earned. */
export async function releaseHeld(trx: Db, userId: string): Promise<number> {
  const rows = await trx
    .deleteFrom('held_bonuses')
    .where('user_id', '=', userId.toLowerCase())
    .returning(['event', 'held_at', 'event_id'])
    .execute();
  rows.sort((a, b) => a.held_at.getTime() - b.held_at.getTime() || a.event_id.localeCompare(b.event_id));
  if (rows.length > 0)
    await appendToOutbox(
      trx,
      rows.map((row) => parseEvent(row.event)),
    );
  return rows.length;
}

/** Erased: what was held is never paid. */
export async function dropHeld(trx: Db, userId: string): Promise<void> {
  await trx.deleteFrom('held_bonuses').where('user_id', '=', userId.toLowerCase()).execute();
}
