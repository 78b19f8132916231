import { type EventData, currencyCode, taskDifficulties, taskTypes } from '@tessera/contracts';
import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { z } from 'zod';
import type { CampaignsTable, TasksDB, TasksTable } from './schema.ts';

type Db = Kysely<TasksDB>;
export type TaskRow = Selectable<TasksTable>;
export type CampaignRow = Selectable<CampaignsTable>;

// ---- repository ---------------------------------------------------------------------------------

export async function insertTask(trx: Db, values: Insertable<TasksTable>): Promise<TaskRow> {
  return trx.insertInto('tasks').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findTask(db: Db, id: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The task, locked for the rest of the transaction (take the campaign's lock first). */
export async function lockTask(trx: Db, id: string): Promise<TaskRow | undefined> {
  return trx.selectFrom('tasks').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateTask(trx: Db, id: string, values: Updateable<TasksTable>): Promise<TaskRow> {
  return trx.updateTable('tasks').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function findCampaign(db: Db, id: string): Promise<CampaignRow | undefined> {
  return db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The campaign, locked: a task's writes lock its campaign first, then the task, the order every
 * claim and settlement uses (db/campaign-money.ts), so they never deadlock.
 */
export async function lockCampaign(trx: Db, id: string): Promise<CampaignRow | undefined> {
  return trx.selectFrom('campaigns').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
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
): Promise<(TaskRow & { cursor_at: string })[]> {
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

// ---- presenters ---------------------------------------------------------------------------------

const money = z.object({ amount: z.number().int().positive(), currency: currencyCode });
const iso = z.string();

/**
 * What a contributor sees of a task. It never holds `is_golden` or `golden_answer` (nor anything
 * that differs between golden and ordinary tasks), so a golden task looks exactly like any other.
 */
export const contributorTaskSchema = z.object({
  id: z.uuid(),
  campaign_id: z.uuid(),
  title: z.string(),
  description: z.string(),
  task_type: z.enum(taskTypes),
  input: z.record(z.string(), z.unknown()),
  difficulty: z.enum(taskDifficulties),
  reward: money,
  xp_reward: z.number().int(),
  time_estimate: z.string().nullable(),
  min_trust_score: z.number(),
  min_level: z.number().int(),
  required_languages: z.array(z.string()),
  regions: z.array(z.string()),
  is_priority: z.boolean(),
  claim_ttl_seconds: z.number().int(),
  deadline: iso.nullable(),
  status: z.enum(['active', 'paused', 'completed', 'archived']),
  slots_left: z.number().int(),
  created_at: iso,
});
export type ContributorTaskView = z.infer<typeof contributorTaskSchema>;

/** A feed entry: the contributor view and where it ranks. */
export const feedTaskSchema = contributorTaskSchema.extend({ priority_score: z.number() });
export type FeedTaskView = z.infer<typeof feedTaskSchema>;

/** What the company, its API keys and admins see: everything, golden answer included. */
export const companyTaskSchema = contributorTaskSchema.extend({
  company_id: z.uuid(),
  is_golden: z.boolean(),
  golden_answer: z.record(z.string(), z.unknown()).nullable(),
  max_submissions: z.number().int(),
  judges_required: z.number().int(),
  slots_taken: z.number().int(),
  submitted_count: z.number().int(),
  approved_count: z.number().int(),
  rejected_count: z.number().int(),
  priority_score: z.number(),
  created_by: z.uuid(),
  updated_at: iso,
});
export type CompanyTaskView = z.infer<typeof companyTaskSchema>;

type ViewRow = Pick<
  TaskRow,
  | 'id'
  | 'campaign_id'
  | 'title'
  | 'description'
  | 'task_type'
  | 'input'
  | 'difficulty'
  | 'reward_amount'
  | 'currency'
  | 'xp_reward'
  | 'time_estimate'
  | 'min_trust_score'
  | 'min_level'
  | 'required_languages'
  | 'regions'
  | 'is_priority'
  | 'claim_ttl_seconds'
  | 'deadline'
  | 'status'
  | 'slots_taken'
  | 'max_submissions'
  | 'created_at'
>;

const isoOrNull = (value: Date | null) => (value === null ? null : value.toISOString());

export function contributorView(row: ViewRow): ContributorTaskView {
  return {
    id: row.id,
    campaign_id: row.campaign_id,
    title: row.title,
    description: row.description,
    task_type: row.task_type,
    input: row.input,
    difficulty: row.difficulty,
    reward: { amount: Number(row.reward_amount), currency: row.currency },
    xp_reward: row.xp_reward,
    time_estimate: row.time_estimate,
    min_trust_score: Number(row.min_trust_score),
    min_level: row.min_level,
    required_languages: row.required_languages,
    regions: row.regions,
    is_priority: row.is_priority,
    claim_ttl_seconds: row.claim_ttl_seconds,
    deadline: isoOrNull(row.deadline),
    status: row.status,
    slots_left: Math.max(0, row.max_submissions - row.slots_taken),
    created_at: row.created_at.toISOString(),
  };
}

export function feedView(row: ViewRow & Pick<TaskRow, 'priority_score'>): FeedTaskView {
  return { ...contributorView(row), priority_score: row.priority_score };
}

export function companyView(row: TaskRow): CompanyTaskView {
  return {
    ...contributorView(row),
    company_id: row.company_id,
    is_golden: row.is_golden,
    golden_answer: row.golden_answer,
    max_submissions: row.max_submissions,
    judges_required: row.judges_required,
    slots_taken: row.slots_taken,
    submitted_count: row.submitted_count,
    approved_count: row.approved_count,
    rejected_count: row.rejected_count,
    priority_score: row.priority_score,
    created_by: row.created_by,
    updated_at: row.updated_at.toISOString(),
  };
}

/** The full snapshot `tasks.task.published.v1` and `tasks.task.updated.v1` carry. */
export function taskSnapshot(row: TaskRow): EventData<'tasks.task.published.v1'> {
  return {
    task_id: row.id,
    campaign_id: row.campaign_id,
    company_id: row.company_id,
    title: row.title,
    task_type: row.task_type,
    difficulty: row.difficulty,
    input: row.input,
    reward: { amount: Number(row.reward_amount), currency: row.currency },
    xp_reward: row.xp_reward,
    max_submissions: row.max_submissions,
    judges_required: row.judges_required,
    min_trust_score: Number(row.min_trust_score),
    min_level: row.min_level,
    required_languages: row.required_languages,
    regions: row.regions,
    is_priority: row.is_priority,
    is_golden: row.is_golden,
    golden_answer: row.golden_answer,
    claim_ttl_seconds: row.claim_ttl_seconds,
    deadline: isoOrNull(row.deadline),
    status: row.status,
  };
}
