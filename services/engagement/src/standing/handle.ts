import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import { localDay, timeZoneOf, userStatus } from '../users/index.ts';
import { awardXp } from './award.ts';
import {
  addEarning,
  addToCounters,
  effectOf,
  ensureStanding,
  isGolden,
  lockStanding,
  recordActive,
  recordEffect,
  setTrust,
  type StandingRow,
} from './repository.ts';
import { currentStreak, decideStreak, streakMultiplier } from './streaks.ts';
import type { EffectKind } from './tables.ts';
import { judgedRejection, moveTrust, type RejectionStage, trustDelta } from './trust.ts';

type Db = Transaction<EngagementDB>;

/** What every use case here is told: whose standing, when (the event's time), and why (the event). */
interface Occurrence {
  userId: string;
  at: Date;
  cause: Cause;
}

const streakOf = (row: StandingRow) => ({ days: row.streak_days, lastDay: row.streak_last_day });

/**
 * Erasure is final: an event about an erased user handled after it (a submission received, a
 * payment, a verdict still in flight) records nothing, so no activity, streak or time comes back.
 */
async function erased(trx: Db, userId: string): Promise<boolean> {
  return (await userStatus(trx, userId))?.status === 'erased';
}

/**
 * The user was active at `at` (handed in work, had a review counted): the streak counts that day
 * in the user's time zone, and decay waits another while.
 */
export async function recordActivity(trx: Db, { userId, at }: Omit<Occurrence, 'cause'>): Promise<void> {
  if (await erased(trx, userId)) return;
  const row = await lockStanding(trx, userId, at);
  const day = localDay(at, await timeZoneOf(trx, userId));
  await recordActive(trx, userId, at, decideStreak(streakOf(row), day));
}

/** The streak multiplier the user holds at `at` (a streak broken by a missed day counts as none). */
async function multiplierAt(trx: Db, row: StandingRow, at: Date): Promise<number> {
  const today = localDay(at, await timeZoneOf(trx, row.user_id));
  return streakMultiplier(currentStreak(streakOf(row), today));
}

/**
 * An approved submission: its XP × the streak multiplier (once per submission), a completed
 * task, and trust (more if it was golden). An approval on appeal gives back what the rejection
 * had taken.
 */
export async function submissionApproved(
  trx: Db,
  command: Occurrence & { submissionId: string; xpReward: number; onAppeal: boolean },
): Promise<void> {
  const { userId, at, cause, submissionId } = command;
  if (await erased(trx, userId)) return;
  const row = await lockStanding(trx, userId, at);
  const amount = Math.round(command.xpReward * (await multiplierAt(trx, row, at)));
  const granted = await awardXp(trx, {
    userId,
    amount,
    source: 'submission',
    sourceId: submissionId,
    at,
    cause,
  });
  if (granted) await addToCounters(trx, userId, { tasks_completed: 1 });

  const golden = await isGolden(trx, submissionId);
  const moved = await moveTrustOnce(trx, {
    userId,
    at,
    cause,
    key: `approval:${submissionId}`,
    kind: golden ? 'golden_approval' : 'approval',
    delta: trustDelta({ kind: 'approval', golden }),
  });
  if (moved && golden) await addToCounters(trx, userId, { golden_right: 1 });

  if (command.onAppeal) await overturnRejection(trx, { userId, at, cause }, submissionId);
}

/** An approval on appeal: the rejection it overturns no longer counts, in trust nor in accuracy. */
async function overturnRejection(trx: Db, occurrence: Occurrence, submissionId: string): Promise<void> {
  const rejection = await effectOf(trx, `rejection:${submissionId}`);
  if (!rejection) return;
  const moved = await moveTrustOnce(trx, {
    ...occurrence,
    key: `overturn:${submissionId}`,
    kind: 'overturn',
    delta: -rejection.trustDelta,
  });
  if (!moved) return;
  await addToCounters(trx, occurrence.userId, {
    rejections_at_review: rejection.kind === 'pre_validation_rejection' ? 0 : -1,
    golden_wrong: rejection.kind === 'golden_rejection' ? -1 : 0,
  });
}

/**
 * A rejected submission: trust (by stage, more if golden) and, when judges rejected it, accuracy.
 * One rejection per submission counts: an upheld appeal repeats a rejection already counted.
 */
export async function submissionRejected(
  trx: Db,
  command: Occurrence & { submissionId: string; stage: RejectionStage | undefined },
): Promise<void> {
  const { userId, at, submissionId, stage } = command;
  if (await erased(trx, userId)) return;
  await lockStanding(trx, userId, at);
  const judged = judgedRejection(stage);
  const golden = judged && (await isGolden(trx, submissionId));
  const kind: EffectKind = !judged ? 'pre_validation_rejection' : golden ? 'golden_rejection' : 'rejection';
  const moved = await moveTrustOnce(trx, {
    ...command,
    key: `rejection:${submissionId}`,
    kind,
    delta: trustDelta({ kind: 'rejection', stage, golden }),
  });
  if (moved && judged) {
    await addToCounters(trx, userId, { rejections_at_review: 1, golden_wrong: golden ? 1 : 0 });
  }
}

/** A fraud flag (once per flag) or a removal from judging (once per event) weighs on trust. */
export async function trustPenalty(
  trx: Db,
  command: Occurrence & { kind: 'fraud_flag' | 'judge_removed'; key: string },
): Promise<void> {
  if (await erased(trx, command.userId)) return;
  await lockStanding(trx, command.userId, command.at);
  await moveTrustOnce(trx, { ...command, delta: trustDelta({ kind: command.kind }) });
}

/**
 * Moves trust once per `key`; the row must be locked. Records the movement made (after clamping,
 * so that an overturn gives back exactly what was taken) and publishes the score when its shown
 * value (one decimal) changed. Answers whether `key` was new.
 */
async function moveTrustOnce(
  trx: Db,
  move: Occurrence & { key: string; kind: EffectKind; delta: number },
): Promise<boolean> {
  const { userId, at } = move;
  const row = await lockStanding(trx, userId, at);
  const next = moveTrust(row.trust_exact, move.delta);
  const fresh = await recordEffect(trx, {
    cause: move.key,
    userId,
    kind: move.kind,
    trustDelta: next.exact - row.trust_exact,
    at,
  });
  if (!fresh) return false;
  if (next.exact !== row.trust_exact) await setTrust(trx, userId, next.exact, next.shown);
  if (next.publish !== undefined) {
    await appendToOutbox(trx, [
      buildEvent(
        'engagement.contributor.trust-changed.v1',
        { user_id: userId, trust_score: next.publish },
        eventMeta(userId, at, move.cause),
      ),
    ]);
  }
  return true;
}

/** A review counted toward a verdict: active that day, one review done, XP when it agreed. */
export async function reviewCounted(
  trx: Db,
  command: Occurrence & { reviewId: string; agreed: boolean; reviewXp: number },
): Promise<void> {
  const { userId, at, cause } = command;
  if (await erased(trx, userId)) return;
  await recordActivity(trx, { userId, at });
  const granted = await awardXp(trx, {
    userId,
    amount: command.agreed ? command.reviewXp : 0,
    source: 'review',
    sourceId: command.reviewId,
    at,
    cause,
  });
  if (granted) await addToCounters(trx, userId, { reviews_done: 1 });
}

/** Money paid to the user (a reward, a judge fee, a promotion), once per ledger transfer. */
export async function moneyEarned(
  trx: Db,
  command: Occurrence & { transferId: string; amount: number; currency: string },
): Promise<void> {
  const { userId, at } = command;
  if (await erased(trx, userId)) return;
  await ensureStanding(trx, userId, at);
  const fresh = await recordEffect(trx, {
    cause: `earning:${command.transferId}`,
    userId,
    kind: 'earning',
    trustDelta: 0,
    at,
  });
  if (fresh) await addEarning(trx, userId, command.amount, command.currency);
}
