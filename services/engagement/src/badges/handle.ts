import { randomUUID } from 'node:crypto';
import { buildEvent, type TaskType } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta, refuse } from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import { payOrHold } from '../bonuses/index.ts';
import type { EngagementDB } from '../db/schema.ts';
import { derivedId } from '../ids.ts';
import { awardXp } from '../standing/index.ts';
import { localHour, timeZoneOf, userStatus } from '../users/index.ts';
import type { BadgeCriteria } from './criteria.ts';
import { earnedBadges } from './decide.ts';
import {
  addToCounter,
  type Badge,
  candidateBadges,
  countCauseOnce,
  insertBadge,
  progressOf,
  receiptHour,
  recordReceipt,
  unlockOnce,
  updateBadge,
} from './repository.ts';

type Db = Kysely<EngagementDB>;
type Trx = Transaction<EngagementDB>;

export interface BadgeDraft {
  code: string;
  name: string;
  description: string;
  criteria: BadgeCriteria;
  xp_bonus: number;
  money_bonus: { amount: number; currency: string } | null;
  active: boolean;
}

export async function createBadge(db: Db, draft: BadgeDraft, now: Date): Promise<Badge> {
  const created = await insertBadge(db, {
    id: randomUUID(),
    code: draft.code,
    name: draft.name,
    description: draft.description,
    criteria: draft.criteria,
    xp_bonus: draft.xp_bonus,
    money_bonus_amount: draft.money_bonus?.amount ?? null,
    money_bonus_currency: draft.money_bonus?.currency ?? null,
    active: draft.active,
    created_at: now,
  });
  if (!created) throw refuse.conflict('BADGE_CODE_TAKEN', `A badge with code ${draft.code} exists.`);
  return created;
}

export async function changeBadge(
  db: Db,
  id: string,
  patch: Partial<Pick<Badge, 'active' | 'name' | 'description'>>,
): Promise<Badge> {
  const badge = await updateBadge(db, id, patch);
  if (!badge) throw refuse.notFound(`No badge ${id}.`, 'BADGE_NOT_FOUND');
  return badge;
}

/** What happened, as badges count it. Each names the cause that must count once. */
export type BadgeActivity =
  | { kind: 'received'; submissionId: string }
  | { kind: 'approval'; submissionId: string; taskType: TaskType | undefined }
  | { kind: 'review'; reviewId: string }
  | { kind: 'earning'; transferId: string; amount: number; currency: string }
  /** Nothing to count, but standing (streak, trust) may have moved. */
  | { kind: 'standing' };

/**
 * Counts an activity toward the user's badges (each cause once), then unlocks every active badge
 * the user now meets. Badges are loaded before the counters move: a concurrent delivery for the
 * same user waits on the counter row, and its unlock insert then finds the winner's row.
 */
export async function recordBadgeActivity(
  trx: Trx,
  command: { userId: string; activity: BadgeActivity; at: Date; cause: Cause },
): Promise<void> {
  const { userId, activity, at, cause } = command;
  const user = await userStatus(trx, userId);
  if (user?.status === 'erased' || user?.role === 'company') return;
  const candidates = await candidateBadges(trx, userId);
  await count(trx, userId, activity, at);
  if (candidates.length === 0) return;

  const progress = await progressOf(trx, userId);
  const earned = new Set(earnedBadges(candidates, progress));
  for (const badge of candidates) {
    if (!earned.has(badge.id)) continue;
    if (!(await unlockOnce(trx, userId, badge.id, at))) continue;
    await rewardUnlock(trx, { badge, userId, at, cause });
  }
}

async function count(trx: Trx, userId: string, activity: BadgeActivity, at: Date): Promise<void> {
  switch (activity.kind) {
    case 'received':
      await recordReceipt(trx, activity.submissionId, userId, localHour(at, await timeZoneOf(trx, userId)));
      return;
    case 'approval': {
      if (!(await countCauseOnce(trx, 'approval', activity.submissionId, userId))) return;
      await addToCounter(trx, userId, 'tasks_completed', '', 1);
      if (activity.taskType) await addToCounter(trx, userId, 'tasks_completed', activity.taskType, 1);
      const hour = await receiptHour(trx, activity.submissionId);
      if (hour !== undefined) await addToCounter(trx, userId, 'approvals_by_hour', String(hour), 1);
      return;
    }
    case 'review':
      if (await countCauseOnce(trx, 'review', activity.reviewId, userId)) {
        await addToCounter(trx, userId, 'reviews_done', '', 1);
      }
      return;
    case 'earning':
      if (activity.amount > 0 && (await countCauseOnce(trx, 'earning', activity.transferId, userId))) {
        await addToCounter(trx, userId, 'earnings_total', activity.currency, activity.amount);
      }
      return;
    case 'standing':
      return;
  }
}

/** The winner of an unlock grants its XP (once per user and badge) and announces it, with any money bonus. */
async function rewardUnlock(
  trx: Trx,
  won: { badge: Badge; userId: string; at: Date; cause: Cause },
): Promise<void> {
  const { badge, userId, at, cause } = won;
  if (badge.xp_bonus > 0) {
    await awardXp(trx, {
      userId,
      amount: badge.xp_bonus,
      source: 'badge',
      sourceId: `${userId}:${badge.id}`,
      at,
      cause,
    });
  }
  await appendToOutbox(trx, [
    buildEvent(
      'engagement.badge.unlocked.v1',
      { user_id: userId, badge_id: badge.id, code: badge.code, xp_bonus: badge.xp_bonus },
      eventMeta(userId, at, cause),
    ),
  ]);
  if (badge.money_bonus_amount !== null && badge.money_bonus_currency !== null) {
    const bonusId = derivedId('badge-bonus', userId, badge.id);
    // Held while the user is suspended, paid if reinstated (bonuses/held.ts).
    await payOrHold(
      trx,
      buildEvent(
        'engagement.bonus.awarded.v1',
        {
          bonus_id: bonusId,
          user_id: userId,
          amount: { amount: Number(badge.money_bonus_amount), currency: badge.money_bonus_currency },
          reason_code: 'BADGE_UNLOCKED',
        },
        eventMeta(bonusId, at, cause),
      ),
      at,
    );
  }
}
