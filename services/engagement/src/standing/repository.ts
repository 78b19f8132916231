import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import type { EffectKind } from './tables.ts';

type Db = Kysely<EngagementDB>;

export interface StandingRow {
  user_id: string;
  xp: number;
  level: number;
  trust_score: number;
  /** Hundredths of a point. */
  trust_exact: number;
  streak_days: number;
  streak_last_day: string | null;
  last_active_at: Date | null;
  tasks_completed: number;
  reviews_done: number;
  rejections_at_review: number;
  golden_right: number;
  golden_wrong: number;
}

type Counter = 'tasks_completed' | 'reviews_done' | 'rejections_at_review' | 'golden_right' | 'golden_wrong';

/**
 * The user's standing row, created with every default if this is the first thing heard of them:
 * whichever event arrives first (an XP grant, an activity, a trust movement, an earning).
 */
export async function ensureStanding(trx: Db, userId: string, at: Date): Promise<void> {
  await ensureStandings(trx, [{ userId, at }]);
}

export async function ensureStandings(
  trx: Db,
  users: readonly { userId: string; at: Date }[],
): Promise<void> {
  if (users.length === 0) return;
  await trx
    .insertInto('standings')
    .values(users.map(({ userId, at }) => ({ user_id: userId, xp: 0, updated_at: at })))
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
}

const standingColumns = [
  'user_id',
  'xp',
  'level',
  'trust_score',
  'trust_exact',
  'streak_days',
  // pg would make a JS Date of a `date` at local midnight; the day itself is what counts.
  sql<string | null>`to_char(streak_last_day, 'YYYY-MM-DD')`.as('streak_last_day'),
  'last_active_at',
  'tasks_completed',
  'reviews_done',
  'rejections_at_review',
  'golden_right',
  'golden_wrong',
] as const;

const present = (row: Record<string, unknown>): StandingRow => ({
  user_id: String(row.user_id),
  xp: Number(row.xp),
  level: Number(row.level),
  trust_score: Number(row.trust_score),
  trust_exact: Math.round(Number(row.trust_exact) * 100),
  streak_days: Number(row.streak_days),
  streak_last_day: (row.streak_last_day as string | null) ?? null,
  last_active_at: (row.last_active_at as Date | null) ?? null,
  tasks_completed: Number(row.tasks_completed),
  reviews_done: Number(row.reviews_done),
  rejections_at_review: Number(row.rejections_at_review),
  golden_right: Number(row.golden_right),
  golden_wrong: Number(row.golden_wrong),
});

/**
 * Locks the user's row, creating it first if this is the first thing heard of them: what changes
 * one user's standing serializes here. The row nearly always exists, so it is locked first and
 * created only when missing (one statement instead of two).
 */
export async function lockStanding(trx: Db, userId: string, at: Date): Promise<StandingRow> {
  const lock = () =>
    trx
      .selectFrom('standings')
      .select(standingColumns)
      .where('user_id', '=', userId)
      .forUpdate()
      .executeTakeFirst();
  const existing = await lock();
  if (existing) return present(existing);
  await ensureStanding(trx, userId, at);
  const created = await lock();
  if (!created) throw new Error(`no standing for ${userId} after creating it`);
  return present(created);
}

export async function findStanding(db: Db, userId: string): Promise<StandingRow | undefined> {
  const row = await db
    .selectFrom('standings')
    .select(standingColumns)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? present(row) : undefined;
}

/** Activity on local `day` (when it moved the streak) at `at`; last_active_at only moves forward. */
export async function recordActive(
  trx: Db,
  userId: string,
  at: Date,
  streak: { days: number; lastDay: string } | undefined,
): Promise<void> {
  await trx
    .updateTable('standings')
    .set({
      last_active_at: sql`greatest(last_active_at, ${at}::timestamptz)`,
      ...(streak ? { streak_days: streak.days, streak_last_day: streak.lastDay } : {}),
    })
    .where('user_id', '=', userId)
    .execute();
}

export async function addToCounters(trx: Db, userId: string, counts: Partial<Record<Counter, number>>) {
  const entries = Object.entries(counts).filter(([, by]) => by !== 0) as [Counter, number][];
  if (entries.length === 0) return;
  await trx
    .updateTable('standings')
    .set(Object.fromEntries(entries.map(([column, by]) => [column, sql`${sql.ref(column)} + ${by}`])))
    .where('user_id', '=', userId)
    .execute();
}

export async function setTrust(trx: Db, userId: string, exactHundredths: number, shown: number) {
  await trx
    .updateTable('standings')
    .set({ trust_exact: (exactHundredths / 100).toFixed(2), trust_score: shown.toFixed(1) })
    .where('user_id', '=', userId)
    .execute();
}

/** Records an effect once: true when `cause` is new, false when it was applied before. */
export async function recordEffect(
  trx: Db,
  effect: { cause: string; userId: string; kind: EffectKind; trustDelta: number; at: Date },
): Promise<boolean> {
  const inserted = await trx
    .insertInto('standing_effects')
    .values({
      cause: effect.cause,
      user_id: effect.userId,
      kind: effect.kind,
      trust_delta: (effect.trustDelta / 100).toFixed(2),
      at: effect.at,
    })
    .onConflict((oc) => oc.column('cause').doNothing())
    .returning('cause')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function effectOf(
  db: Db,
  cause: string,
): Promise<{ kind: EffectKind; trustDelta: number } | undefined> {
  const row = await db
    .selectFrom('standing_effects')
    .select(['kind', 'trust_delta'])
    .where('cause', '=', cause)
    .executeTakeFirst();
  return row ? { kind: row.kind, trustDelta: Math.round(Number(row.trust_delta) * 100) } : undefined;
}

export async function markGolden(trx: Db, submissionId: string): Promise<void> {
  await trx
    .insertInto('golden_submissions')
    .values({ submission_id: submissionId })
    .onConflict((oc) => oc.column('submission_id').doNothing())
    .execute();
}

export async function isGolden(db: Db, submissionId: string): Promise<boolean> {
  const row = await db
    .selectFrom('golden_submissions')
    .select('submission_id')
    .where('submission_id', '=', submissionId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function addEarning(trx: Db, userId: string, amount: number, currency: string): Promise<void> {
  await trx
    .insertInto('earnings')
    .values({ user_id: userId, currency, amount })
    .onConflict((oc) =>
      oc.columns(['user_id', 'currency']).doUpdateSet({ amount: sql`earnings.amount + excluded.amount` }),
    )
    .execute();
}

export async function earningsOf(db: Db, userId: string): Promise<{ amount: number; currency: string }[]> {
  const rows = await db
    .selectFrom('earnings')
    .select(['amount', 'currency'])
    .where('user_id', '=', userId)
    .orderBy('currency')
    .execute();
  return rows.map((row) => ({ amount: Number(row.amount), currency: row.currency }));
}

export async function markDecayed(trx: Db, userIds: readonly string[], day: string): Promise<void> {
  if (userIds.length === 0) return;
  await trx.updateTable('standings').set({ decayed_on: day }).where('user_id', 'in', userIds).execute();
}

/**
 * An erased user keeps their numbers (XP, level, trust, counters, earnings: not personal, and the
 * leaderboards' and ledger's totals agree with them), not when they were active: the streak and the
 * last activity go, and every time kept per XP entry and per trust effect becomes the erasure's own
 * time. Not the day: a day per entry would still draw the user's activity day by day; one instant
 * for all of them says only when they left. The rows stay, so a cause applied before is still
 * applied once (their keys) and an overturn still finds the rejection it gives back.
 */
export async function forgetActivity(trx: Db, userId: string, erasedAt: Date): Promise<void> {
  await trx
    .updateTable('standings')
    .set({
      last_active_at: null,
      streak_last_day: null,
      streak_days: 0,
      decayed_on: null,
      updated_at: erasedAt,
    })
    .where('user_id', '=', userId)
    .execute();
  // The leaderboards' triggers fire on inserts of entries only: their totals are not moved.
  await trx.updateTable('xp_entries').set({ at: erasedAt }).where('user_id', '=', userId).execute();
  await trx.updateTable('standing_effects').set({ at: erasedAt }).where('user_id', '=', userId).execute();
}

/**
 * The next batch of users due for today's decay, by user id after `after`, locked (rows a handler
 * holds right now are skipped: the next run takes them). Only those inactive since before
 * `cutoff`, with XP enough to lose at least one point, and not decayed yet on `day`
 * (`decayed_on` is a cheap filter; the XP entry's unique key is what guarantees once a day).
 */
export async function dueForDecay(
  trx: Db,
  query: {
    cutoff: Date;
    day: string;
    percent: number;
    after: string | undefined;
    limit: number;
    /** Only this user (still due, locked). */
    only?: string;
  },
): Promise<{ user_id: string; xp: number }[]> {
  let select = trx
    .selectFrom('standings')
    .select(['user_id', 'xp'])
    .where('last_active_at', '<', query.cutoff)
    .where(sql<boolean>`xp * ${query.percent} >= 100`)
    .where((eb) => eb.or([eb('decayed_on', 'is', null), eb('decayed_on', '<', query.day)]));
  if (query.after) select = select.where('user_id', '>', query.after);
  if (query.only) select = select.where('user_id', '=', query.only);
  const rows = await select.orderBy('user_id').limit(query.limit).forUpdate().skipLocked().execute();
  return rows.map((row) => ({ user_id: row.user_id, xp: Number(row.xp) }));
}
