import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { TasksDB, TasksTable } from '../db/schema.ts';

type Db = Kysely<TasksDB>;

export type TaskRecord = Selectable<TasksTable>;

export async function insertTask(trx: Db, values: Insertable<TasksTable>): Promise<TaskRecord> {
  return trx.insertInto('tasks').values(values).returningAll().executeTakeFirstOrThrow();
}

/** A task; `lock` holds its row until the transaction ends (take the campaign's lock first). */
export async function findTask(
  db: Db,
  id: string,
  options: { lock?: boolean } = {},
): Promise<TaskRecord | undefined> {
  let query = db.selectFrom('tasks').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function updateTask(trx: Db, id: string, values: Updateable<TasksTable>): Promise<TaskRecord> {
  return trx.updateTable('tasks').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Completes a task whose approvals reached its maximum, once; undefined when it is not (yet) done. */
export async function completeIfDone(trx: Db, taskId: string, now: Date) {
  return trx
    .updateTable('tasks')
    .set({ status: 'completed', updated_at: now })
    .where('id', '=', taskId)
    .where('status', 'in', ['active', 'paused'])
    .where((eb) => eb('approved_count', '>=', eb.ref('max_submissions')))
    .returning(['id', 'campaign_id', 'company_id'])
    .executeTakeFirst();
}

/** Whether the contributor ever claimed the task (any status): they may still read it. */
export async function hasAssignment(db: Db, taskId: string, contributorId: string): Promise<boolean> {
  const row = await db
    .selectFrom('assignments')
    .select('id')
    .where('task_id', '=', taskId)
    .where('contributor_id', '=', contributorId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface CampaignTasksPage {
  campaignId: string;
  /** created_at to the microsecond (ISO, UTC) and id of the last task shown. */
  after?: { at: string; id: string } | undefined;
  limit: number;
  status?: TasksTable['status'] | undefined;
  type?: TasksTable['task_type'] | undefined;
  difficulty?: TasksTable['difficulty'] | undefined;
  minReward?: number | undefined;
  maxReward?: number | undefined;
}

/**
 * One page (plus one row, to know whether more follow) of a campaign's tasks, newest first, on
 * the `tasks_campaign` index. `cursor_at` is created_at to the microsecond, for the next cursor.
 */
export async function listCampaignTasks(
  db: Db,
  page: CampaignTasksPage,
): Promise<(TaskRecord & { cursor_at: string })[]> {
  let query = db
    .selectFrom('tasks')
    .selectAll()
    .select(
      sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'),
    )
    .where('campaign_id', '=', page.campaignId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (page.after) {
    const { at, id } = page.after;
    query = query.where(sql<boolean>`(created_at, id) < (${at}::timestamptz, ${id}::uuid)`);
  }
  if (page.status) query = query.where('status', '=', page.status);
  if (page.type) query = query.where('task_type', '=', page.type);
  if (page.difficulty) query = query.where('difficulty', '=', page.difficulty);
  if (page.minReward !== undefined)
    query = query.where(sql<boolean>`reward_amount >= ${page.minReward}::bigint`);
  if (page.maxReward !== undefined)
    query = query.where(sql<boolean>`reward_amount <= ${page.maxReward}::bigint`);
  return query.execute();
}
