import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { type Cause, eventMeta, orRefuse, refuse } from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import { payOrHold } from '../bonuses/index.ts';
import type { EngagementDB } from '../db/schema.ts';
import { derivedId } from '../ids.ts';
import { awardXp } from '../standing/index.ts';
import { localDay, timeZoneOf, userStatus } from '../users/index.ts';
import type { MissionCriteria } from './criteria.ts';
import { type Activity, counts, decideWindow, isComplete, runsOn } from './decide.ts';
import {
  addProgress,
  completeOnce,
  countCauseOnce,
  insertMission,
  lockMission,
  type Mission,
  missionsOn,
  progressOn,
  updateMission,
} from './repository.ts';

type Db = Kysely<EngagementDB>;

export interface MissionDraft {
  code: string;
  title: string;
  description: string;
  criteria: MissionCriteria;
  xp_reward: number;
  money_reward: { amount: number; currency: string } | null;
  active: boolean;
  starts_on: string | null;
  ends_on: string | null;
}

export async function createMission(
  trx: Db,
  command: { draft: MissionDraft; createdBy: string; now: Date },
): Promise<Mission> {
  const { draft } = command;
  orRefuse(decideWindow(draft));
  const created = await insertMission(trx, {
    id: randomUUID(),
    code: draft.code,
    title: draft.title,
    description: draft.description,
    criteria: draft.criteria,
    xp_reward: draft.xp_reward,
    money_reward_amount: draft.money_reward?.amount ?? null,
    money_reward_currency: draft.money_reward?.currency ?? null,
    active: draft.active,
    starts_on: draft.starts_on,
    ends_on: draft.ends_on,
    created_by: command.createdBy,
    created_at: command.now,
  });
  if (!created) throw refuse.conflict('MISSION_CODE_TAKEN', `A mission with code ${draft.code} exists.`);
  return created;
}

export type MissionPatch = Partial<Pick<Mission, 'active' | 'title' | 'description' | 'ends_on'>>;

export async function changeMission(trx: Db, id: string, patch: MissionPatch): Promise<Mission> {
  const mission = await lockMission(trx, id);
  if (!mission) throw refuse.notFound(`No mission ${id}.`, 'MISSION_NOT_FOUND');
  const endsOn = patch.ends_on === undefined ? mission.ends_on : patch.ends_on;
  orRefuse(decideWindow({ starts_on: mission.starts_on, ends_on: endsOn }));
  return updateMission(trx, id, patch);
}

export interface MissionToday {
  mission: Mission;
  progress: number;
  completed_at: Date | null;
}

/** The missions running on the user's local day, with their progress on each. */
export async function missionsToday(
  db: Db,
  userId: string,
  now: Date,
): Promise<{ day: string; missions: MissionToday[] }> {
  const day = localDay(now, await timeZoneOf(db, userId));
  const [missions, progress] = await Promise.all([missionsOn(db, day), progressOn(db, userId, day)]);
  const byMission = new Map(progress.map((row) => [row.mission_id, row]));
  return {
    day,
    missions: missions
      .filter((mission) => runsOn(mission, day))
      .map((mission) => {
        const row = byMission.get(mission.id);
        return { mission, progress: row?.progress ?? 0, completed_at: row?.completed_at ?? null };
      }),
  };
}

/**
 * Counts what a user did toward every mission running on their local day of `at`: each cause
 * (a submission, a review) once per mission, however many events tell of it. The one delivery
 * that completes a day's mission rewards it: XP once per (mission, user, day), and its money bonus
 * as `engagement.bonus.awarded.v1` with an id derived from the same, so the ledger pays it once.
 */
export async function recordActivity(
  trx: Transaction<EngagementDB>,
  command: { userId: string; causeId: string; activity: Activity; at: Date; cause: Cause },
): Promise<void> {
  const { userId, causeId, activity, at, cause } = command;
  const user = await userStatus(trx, userId);
  if (user?.status === 'erased' || user?.role === 'company') return;
  const day = localDay(at, await timeZoneOf(trx, userId));
  for (const mission of await missionsOn(trx, day)) {
    if (!runsOn(mission, day) || !counts(mission.criteria, activity)) continue;
    if (!(await countCauseOnce(trx, mission.id, userId, causeId))) continue;
    const { progress } = await addProgress(trx, mission.id, userId, day);
    if (!isComplete(mission.criteria, progress)) continue;
    if (!(await completeOnce(trx, mission.id, userId, day, at))) continue;
    await rewardCompletion(trx, { mission, userId, day, at, cause });
  }
}

async function rewardCompletion(
  trx: Transaction<EngagementDB>,
  won: { mission: Mission; userId: string; day: string; at: Date; cause: Cause },
): Promise<void> {
  const { mission, userId, day, at, cause } = won;
  if (mission.xp_reward > 0) {
    await awardXp(trx, {
      userId,
      amount: mission.xp_reward,
      source: 'mission',
      sourceId: `${mission.id}:${userId}:${day}`,
      at,
      cause,
    });
  }
  if (mission.money_reward_amount !== null && mission.money_reward_currency !== null) {
    const bonusId = derivedId('mission-bonus', mission.id, userId, day);
    // Held while the user is suspended, paid if reinstated (bonuses/held.ts).
    await payOrHold(
      trx,
      buildEvent(
        'engagement.bonus.awarded.v1',
        {
          bonus_id: bonusId,
          user_id: userId,
          amount: { amount: mission.money_reward_amount, currency: mission.money_reward_currency },
          reason_code: 'MISSION_COMPLETED',
        },
        eventMeta(bonusId, at, cause),
      ),
      at,
    );
  }
}
