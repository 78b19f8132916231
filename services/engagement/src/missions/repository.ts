import { after, type Position } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import type { MissionCriteria } from './criteria.ts';

type Db = Kysely<EngagementDB>;

export interface Mission {
  id: string;
  code: string;
  title: string;
  description: string;
  criteria: MissionCriteria;
  xp_reward: number;
  money_reward_amount: number | null;
  money_reward_currency: string | null;
  active: boolean;
  starts_on: string | null;
  ends_on: string | null;
  created_by: string;
  created_at: Date;
}

// Days are Postgres dates read as text: node-postgres would turn them into local-midnight Dates.
const missionColumns = [
  'id',
  'code',
  'title',
  'description',
  'criteria',
  'xp_reward',
  'money_reward_amount',
  'money_reward_currency',
  'active',
  sql<string | null>`starts_on::text`.as('starts_on'),
  sql<string | null>`ends_on::text`.as('ends_on'),
  'created_by',
  'created_at',
] as const;

/** Inserts a mission; undefined when its code is taken. */
export async function insertMission(db: Db, mission: Mission): Promise<Mission | undefined> {
  return db
    .insertInto('missions')
    .values({ ...mission, criteria: JSON.stringify(mission.criteria) })
    .onConflict((oc) => oc.column('code').doNothing())
    .returning(missionColumns)
    .executeTakeFirst();
}

/** Missions newest first, after a cursor position. */
export async function listMissions(db: Db, page: { after?: Position; limit: number }): Promise<Mission[]> {
  let query = db.selectFrom('missions').select(missionColumns);
  if (page.after) query = query.where(after(page.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

export async function lockMission(trx: Db, id: string): Promise<Mission | undefined> {
  return trx
    .selectFrom('missions')
    .select(missionColumns)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateMission(
  trx: Db,
  id: string,
  patch: Partial<Pick<Mission, 'active' | 'title' | 'description' | 'ends_on'>>,
): Promise<Mission> {
  return trx
    .updateTable('missions')
    .set(patch)
    .where('id', '=', id)
    .returning(missionColumns)
    .executeTakeFirstOrThrow();
}

/** Missions that may run on a local day (the exact rule is `runsOn`). */
export async function missionsOn(db: Db, day: string): Promise<Mission[]> {
  return db
    .selectFrom('missions')
    .select(missionColumns)
    .where('active', '=', true)
    .where((eb) => eb.or([eb('starts_on', 'is', null), eb('starts_on', '<=', day)]))
    .where((eb) => eb.or([eb('ends_on', 'is', null), eb('ends_on', '>=', day)]))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export interface DayProgress {
  mission_id: string;
  progress: number;
  completed_at: Date | null;
}

export async function progressOn(db: Db, userId: string, day: string): Promise<DayProgress[]> {
  return db
    .selectFrom('mission_progress')
    .select(['mission_id', 'progress', 'completed_at'])
    .where('user_id', '=', userId)
    .where('day', '=', day)
    .execute();
}

/** Records that a cause counted toward a mission for a user; false when it already had. */
export async function countCauseOnce(
  trx: Db,
  missionId: string,
  userId: string,
  causeId: string,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('mission_counted_causes')
    .values({ mission_id: missionId, user_id: userId, cause_id: causeId })
    .onConflict((oc) => oc.columns(['mission_id', 'user_id', 'cause_id']).doNothing())
    .returning('cause_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** One more toward a mission on a day; answers the progress now (the row is locked until commit). */
export async function addProgress(
  trx: Db,
  missionId: string,
  userId: string,
  day: string,
): Promise<DayProgress> {
  return trx
    .insertInto('mission_progress')
    .values({ mission_id: missionId, user_id: userId, day, progress: 1 })
    .onConflict((oc) =>
      oc
        .columns(['mission_id', 'user_id', 'day'])
        .doUpdateSet({ progress: sql<number>`mission_progress.progress + 1` }),
    )
    .returning(['mission_id', 'progress', 'completed_at'])
    .executeTakeFirstOrThrow();
}

/** Marks the day's mission completed; true only for the one call that did it. */
export async function completeOnce(
  trx: Db,
  missionId: string,
  userId: string,
  day: string,
  at: Date,
): Promise<boolean> {
  const won = await trx
    .updateTable('mission_progress')
    .set({ completed_at: at })
    .where('mission_id', '=', missionId)
    .where('user_id', '=', userId)
    .where('day', '=', day)
    .where('completed_at', 'is', null)
    .returning('mission_id')
    .executeTakeFirst();
  return won !== undefined;
}

/** An erased user's mission history goes: it says when they worked. */
export async function forgetUser(trx: Db, userId: string): Promise<void> {
  await trx.deleteFrom('mission_progress').where('user_id', '=', userId).execute();
  await trx.deleteFrom('mission_counted_causes').where('user_id', '=', userId).execute();
}
