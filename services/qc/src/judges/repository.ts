import { idsNamedBy, isUuid, lockName, lockNames, tryLockName } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { QcDB } from '../db/schema.ts';
import { statsCutoff } from '../quality/decide.ts';
import { defaultStanding, type JudgeRecord, type JudgeStanding } from './decide.ts';

type Db = Kysely<QcDB>;

/** What QC knows of a user, or the defaults when it has not heard of them (or the id is no user's). */
export async function standingOf(db: Db, userId: string): Promise<JudgeStanding> {
  if (!isUuid(userId)) return defaultStanding;
  const row = await db
    .selectFrom('judges')
    .select(['role', 'status', 'level', 'trust_score', 'appointed', 'removed_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return defaultStanding;
  return {
    role: row.role,
    status: row.status,
    level: row.level,
    trust_score: Number(row.trust_score),
    appointed: row.appointed,
    removed: row.removed_at !== null,
  };
}

/** The judges' records, by user id (judges QC has not heard of have none: the prior). */
export async function recordsOf(db: Db, userIds: readonly string[]): Promise<Map<string, JudgeRecord>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('judges')
    .select(['user_id', 'correct', 'answered', 'honeypot_correct', 'honeypot_answered'])
    .where('user_id', 'in', [...userIds])
    .execute();
  return new Map(rows.map((row) => [row.user_id, row]));
}

export const noRecord: JudgeRecord = { correct: 0, answered: 0, honeypot_correct: 0, honeypot_answered: 0 };

/** The advisory lock key of a judge is this and their lower-case id. */
export const JUDGE_LOCK_PREFIX = 'judge:';

/**
 * A read-model consumer's `lockFirst`: the judges its batch's events name, locked in id order. A
 * batch upserts judges in event order while a verdict scores its judges in id order
 * (verdicts/handle.ts `countReviews`): crossed, they deadlocked, and a vote was answered 500 in the
 * 10,000-submission chaos run. A judge with no row yet has no row to lock: an advisory lock per
 * named judge, taken first in one order, keeps two batches (identity's and engagement's) from
 * inserting the same two new judges in opposite orders and waiting on each other's inserts. A
 * verdict never inserts a judge (whoever voted leased first, which made their row).
 */
export async function lockJudgesOf(trx: Db, events: readonly { data: unknown }[]): Promise<void> {
  const ids = idsNamedBy(events, ['user_id']);
  if (ids.length === 0) return;
  await lockNames(
    trx,
    ids.map((id) => JUDGE_LOCK_PREFIX + id),
  );
  await trx
    .selectFrom('judges')
    .select('user_id')
    .where('user_id', 'in', ids)
    .orderBy('user_id')
    .forUpdate()
    .execute();
}

/**
 * The judge's lock, held to the end of the transaction: whatever one judge does to their leases
 * (leasing, submitting, releasing) runs one at a time, so two parallel requests never both see no
 * lease, and a review is never submitted while the judge's removal is under way. The same advisory
 * lock as `lockJudgesOf` (a standing change waits for it too); taken first, before any row lock, so
 * it never closes a cycle with the row locks taken in id order.
 */
export async function lockJudge(trx: Db, userId: string): Promise<void> {
  await lockName(trx, JUDGE_LOCK_PREFIX + userId.toLowerCase());
}

/**
 * `lockJudge` without waiting: true when the lock is now held (to the end of the transaction), false
 * when another transaction holds it. For background work that can come back to a busy judge later.
 */
export async function tryLockJudge(trx: Db, userId: string): Promise<boolean> {
  return tryLockName(trx, JUDGE_LOCK_PREFIX + userId.toLowerCase());
}

/** Makes sure the judge has a row (an admin, or a user no event told us of yet). */
export async function ensureJudge(trx: Db, userId: string): Promise<void> {
  await trx
    .insertInto('judges')
    .values({ user_id: userId, role: null, trust_score: defaultStanding.trust_score })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
}

/**
 * Adds to a judge's record: `answered` reviews scored, `correct` of them right. The day's first
 * score first keeps the record as it stood at the day's start (`day_start_*`, `record_day`): what
 * the judge sees of their own record until the next day (quality/decide.ts `judgeStatsAsOf`). In
 * one UPDATE every right-hand side reads the row as it was, so the copy is the record before this
 * score.
 */
export async function scoreJudge(
  trx: Db,
  userId: string,
  score: { correct: number; answered: number; honeypot?: boolean },
  now: Date,
): Promise<JudgeRecord> {
  await ensureJudge(trx, userId);
  const honeypot = score.honeypot === true;
  const day = statsCutoff(now);
  // A score stamped before a later day already recorded (a transaction across midnight committing
  // late) keeps that day's start as it is: it shows from the next day.
  const sameDay = sql<boolean>`coalesce(judges.record_day >= ${day}::timestamptz, false)`;
  const keep = (column: 'correct' | 'answered' | 'honeypot_correct' | 'honeypot_answered') =>
    sql<number>`case when ${sameDay} then judges.${sql.ref(`day_start_${column}`)} else judges.${sql.ref(column)} end`;
  return trx
    .updateTable('judges')
    .set((eb) => ({
      day_start_correct: keep('correct'),
      day_start_answered: keep('answered'),
      day_start_honeypot_correct: keep('honeypot_correct'),
      day_start_honeypot_answered: keep('honeypot_answered'),
      record_day: sql<Date>`greatest(judges.record_day, ${day}::timestamptz)`,
      correct: eb('correct', '+', score.correct),
      answered: eb('answered', '+', score.answered),
      honeypot_correct: eb('honeypot_correct', '+', honeypot ? score.correct : 0),
      honeypot_answered: eb('honeypot_answered', '+', honeypot ? score.answered : 0),
    }))
    .where('user_id', '=', userId)
    .returning(['correct', 'answered', 'honeypot_correct', 'honeypot_answered'])
    .executeTakeFirstOrThrow();
}

// ---- the read model, from identity's and engagement's events --------------------------------------
// Each source keeps the time of the event it reflects; an older event handled late never wins.
// Erasure is final.

const newer = (column: 'identity_changed_at' | 'level_changed_at' | 'trust_changed_at') =>
  sql<boolean>`(judges.${sql.ref(column)} is null or judges.${sql.ref(column)} <= excluded.${sql.ref(column)})`;

/** A role never changes: a registration handled after a newer event still records it. */
export async function userRegistered(trx: Db, userId: string, role: string): Promise<void> {
  await trx
    .insertInto('judges')
    .values({ user_id: userId, role, trust_score: defaultStanding.trust_score })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ role }).where('judges.role', 'is', null))
    .execute();
}

export async function statusChanged(
  trx: Db,
  userId: string,
  status: 'active' | 'suspended' | 'erased',
  at: string,
): Promise<void> {
  await trx
    .insertInto('judges')
    .values({
      user_id: userId,
      role: null,
      trust_score: defaultStanding.trust_score,
      status,
      identity_changed_at: at,
    })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ status, identity_changed_at: at })
        .where(sql<boolean>`judges.status <> 'erased'`)
        .where(newer('identity_changed_at')),
    )
    .execute();
}

export async function levelChanged(trx: Db, userId: string, level: number, at: string): Promise<void> {
  await trx
    .insertInto('judges')
    .values({
      user_id: userId,
      role: null,
      trust_score: defaultStanding.trust_score,
      level,
      level_changed_at: at,
    })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({ level, level_changed_at: at }).where(newer('level_changed_at')),
    )
    .execute();
}

export async function trustChanged(trx: Db, userId: string, trust: number, at: string): Promise<void> {
  await trx
    .insertInto('judges')
    .values({ user_id: userId, role: null, trust_score: trust, trust_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ trust_score: trust, trust_changed_at: at })
        .where(newer('trust_changed_at')),
    )
    .execute();
}

/**
 * An admin appoints (or withdraws) a judge. An appointment also restores a judge removed after
 * honeypots: the removal is cleared, and the honeypot record the removal rule reads starts afresh
 * from now (`restored_at` and the counters then; `judges/decide.ts:honeypotsSinceRestored`). The
 * lifetime counters are kept for audit and for the judge's accuracy.
 */
export async function setAppointed(trx: Db, userId: string, appointed: boolean, now: Date): Promise<void> {
  await lockJudge(trx, userId);
  await ensureJudge(trx, userId);
  await trx.updateTable('judges').set({ appointed }).where('user_id', '=', userId).execute();
  if (!appointed) return;
  await trx
    .updateTable('judges')
    .set((eb) => ({
      removed_at: null,
      removed_reason: null,
      restored_at: now,
      restored_honeypot_correct: eb.ref('honeypot_correct'),
      restored_honeypot_answered: eb.ref('honeypot_answered'),
    }))
    .where('user_id', '=', userId)
    .where('removed_at', 'is not', null)
    .execute();
}
