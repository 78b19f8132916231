import type { TaskType } from '@tessera/contracts';
import { after, type Position } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import type { BadgeCriteria } from './criteria.ts';
import { type BadgeProgress, noProgress } from './decide.ts';

type Db = Kysely<EngagementDB>;

export interface Badge {
  id: string;
  code: string;
  name: string;
  description: string;
  criteria: BadgeCriteria;
  xp_bonus: number;
  money_bonus_amount: number | null;
  money_bonus_currency: string | null;
  active: boolean;
  created_at: Date;
}

const badgeColumns = [
  'id',
  'code',
  'name',
  'description',
  'criteria',
  'xp_bonus',
  'money_bonus_amount',
  'money_bonus_currency',
  'active',
  'created_at',
] as const;

/** Inserts a badge; undefined when its code is taken. */
export async function insertBadge(db: Db, badge: Badge): Promise<Badge | undefined> {
  return db
    .insertInto('badges')
    .values({ ...badge, criteria: JSON.stringify(badge.criteria) })
    .onConflict((oc) => oc.column('code').doNothing())
    .returning(badgeColumns)
    .executeTakeFirst();
}

export async function listBadges(
  db: Db,
  page: { after?: Position; limit: number; activeOnly?: boolean },
): Promise<Badge[]> {
  let query = db.selectFrom('badges').select(badgeColumns);
  if (page.activeOnly) query = query.where('active', '=', true);
  if (page.after) query = query.where(after(page.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

export async function updateBadge(
  db: Db,
  id: string,
  patch: Partial<Pick<Badge, 'active' | 'name' | 'description'>>,
): Promise<Badge | undefined> {
  return db.updateTable('badges').set(patch).where('id', '=', id).returning(badgeColumns).executeTakeFirst();
}

/** The user's unlock times of the given badges (for a listing's "unlocked_at"). */
export async function unlockTimes(db: Db, userId: string): Promise<Map<string, Date>> {
  const rows = await db
    .selectFrom('user_badges')
    .select(['badge_id', 'unlocked_at'])
    .where('user_id', '=', userId)
    .execute();
  return new Map(rows.map((row) => [row.badge_id, row.unlocked_at]));
}

/** Active badges the user has not unlocked yet. */
export async function candidateBadges(db: Db, userId: string): Promise<Badge[]> {
  return db
    .selectFrom('badges')
    .select(badgeColumns)
    .where('active', '=', true)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('user_badges')
            .select('badge_id')
            .whereRef('user_badges.badge_id', '=', 'badges.id')
            .where('user_badges.user_id', '=', userId),
        ),
      ),
    )
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Records that a cause counted for a user; false when it already had. */
export async function countCauseOnce(
  trx: Db,
  kind: 'approval' | 'review' | 'earning',
  causeId: string,
  userId: string,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('badge_counted_causes')
    .values({ kind, cause_id: causeId, user_id: userId })
    .onConflict((oc) => oc.columns(['kind', 'cause_id']).doNothing())
    .returning('cause_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Adds to a counter (the row stays locked until commit, so two adds to one user serialize). */
export async function addToCounter(
  trx: Db,
  userId: string,
  metric: string,
  scope: string,
  amount: number,
): Promise<void> {
  await trx
    .insertInto('badge_counters')
    .values({ user_id: userId, metric, scope, value: amount })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'metric', 'scope'])
        .doUpdateSet({ value: sql<number>`badge_counters.value + excluded.value` }),
    )
    .execute();
}

export async function recordReceipt(
  trx: Db,
  submissionId: string,
  userId: string,
  localHour: number,
): Promise<void> {
  await trx
    .insertInto('badge_receipts')
    .values({ submission_id: submissionId, user_id: userId, local_hour: localHour })
    .onConflict((oc) => oc.column('submission_id').doNothing())
    .execute();
}

export async function receiptHour(db: Db, submissionId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('badge_receipts')
    .select('local_hour')
    .where('submission_id', '=', submissionId)
    .executeTakeFirst();
  return row?.local_hour;
}

/**
 * The user's counters as progress, with standing's streak and trust score (standing's handler for
 * this event already ran), in one round trip.
 */
export async function progressOf(db: Db, userId: string): Promise<BadgeProgress> {
  // One row whatever exists: the counters as a JSON array (values as text, bigints stay exact).
  const { rows } = await sql<{
    streak_days: number | null;
    trust_score: string | number | null;
    counters: [metric: string, scope: string, value: string][];
  }>`
    select s.streak_days, s.trust_score,
      (select coalesce(json_agg(json_build_array(c.metric, c.scope, c.value::text)), '[]'::json)
         from badge_counters c where c.user_id = ${userId}) as counters
    from (values (1)) as one (x) left join standings s on s.user_id = ${userId}`.execute(db);
  const row = rows[0]!;
  const progress = {
    ...noProgress,
    tasksByType: {} as Partial<Record<TaskType, number>>,
    earnings: {} as Record<string, number>,
    approvalsByHour: [...noProgress.approvalsByHour],
    streakDays: Number(row.streak_days ?? 0),
    trustScore: Number(row.trust_score ?? 0),
  };
  for (const [metric, scope, value] of row.counters) {
    const count = Number(value);
    if (metric === 'tasks_completed' && scope === '') progress.tasksCompleted = count;
    else if (metric === 'tasks_completed') progress.tasksByType[scope as TaskType] = count;
    else if (metric === 'reviews_done') progress.reviewsDone = count;
    else if (metric === 'earnings_total') progress.earnings[scope] = count;
    else if (metric === 'approvals_by_hour') progress.approvalsByHour[Number(scope)] = count;
  }
  return progress;
}

/** Unlocks a badge; true only for the one insert that did it (a racing one waits, then finds it). */
export async function unlockOnce(trx: Db, userId: string, badgeId: string, at: Date): Promise<boolean> {
  const won = await trx
    .insertInto('user_badges')
    .values({ user_id: userId, badge_id: badgeId, unlocked_at: at })
    .onConflict((oc) => oc.columns(['user_id', 'badge_id']).doNothing())
    .returning('badge_id')
    .executeTakeFirst();
  return won !== undefined;
}

/** An erased user's counters and receipts go (they say when and how much they worked); unlocks stay, ids only. */
export async function forgetUser(trx: Db, userId: string, erasedAt: Date): Promise<void> {
  // The badges stay (a count, like XP), unlocked as far as anyone can tell at the erasure.
  await trx.updateTable('user_badges').set({ unlocked_at: erasedAt }).where('user_id', '=', userId).execute();
  await trx.deleteFrom('badge_counters').where('user_id', '=', userId).execute();
  await trx.deleteFrom('badge_receipts').where('user_id', '=', userId).execute();
}
