import { type Kysely, type Selectable, sql } from 'kysely';
import type { AssignmentsTable, AssignmentStatus, CampaignsTable, TasksDB, TasksTable } from './schema.ts';

type Db = Kysely<TasksDB>;

export type AssignmentRow = Selectable<AssignmentsTable>;

/** Statuses that hold the (task, contributor) pair: a contributor has at most one of these per task. */
export const liveStatuses: readonly AssignmentStatus[] = ['active', 'submitted', 'approved', 'rejected'];

/** The partial unique index that allows one live assignment per (task, contributor). */
export const onePerContributorIndex = 'assignments_one_per_contributor';

/** Whether `error` is Postgres refusing a second live assignment for the same task and contributor. */
export function isDuplicateClaim(error: unknown): boolean {
  const pgError = error as { code?: unknown; constraint?: unknown } | null;
  return pgError?.code === '23505' && pgError.constraint === onePerContributorIndex;
}

/** What a claim needs to know about a task and its campaign. */
export type ClaimTarget = Pick<
  Selectable<TasksTable>,
  | 'id'
  | 'campaign_id'
  | 'company_id'
  | 'status'
  | 'reward_amount'
  | 'currency'
  | 'xp_reward'
  | 'min_level'
  | 'min_trust_score'
  | 'required_languages'
  | 'regions'
  | 'claim_ttl_seconds'
  | 'deadline'
> & {
  campaign_status: Selectable<CampaignsTable>['status'];
  campaign_start_at: Date | null;
  campaign_end_at: Date | null;
  is_private: boolean;
};

export async function findClaimTarget(db: Db, taskId: string): Promise<ClaimTarget | undefined> {
  return db
    .selectFrom('tasks as t')
    .innerJoin('campaigns as c', 'c.id', 't.campaign_id')
    .select([
      't.id',
      't.campaign_id',
      't.company_id',
      't.status',
      't.reward_amount',
      't.currency',
      't.xp_reward',
      't.min_level',
      't.min_trust_score',
      't.required_languages',
      't.regions',
      't.claim_ttl_seconds',
      't.deadline',
      'c.status as campaign_status',
      'c.start_at as campaign_start_at',
      'c.end_at as campaign_end_at',
      'c.is_private',
    ])
    .where('t.id', '=', taskId)
    .executeTakeFirst();
}

export async function findLiveAssignment(
  db: Db,
  taskId: string,
  contributorId: string,
  options: { forUpdate?: boolean; statuses?: readonly AssignmentStatus[] } = {},
): Promise<AssignmentRow | undefined> {
  let query = db
    .selectFrom('assignments')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('contributor_id', '=', contributorId)
    .where('status', 'in', options.statuses ?? liveStatuses)
    .orderBy('claimed_at', 'desc')
    .limit(1);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findAssignment(
  db: Db,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<AssignmentRow | undefined> {
  let query = db.selectFrom('assignments').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findAssignmentBySubmission(
  db: Db,
  submissionId: string,
  options: { forUpdate?: boolean } = {},
): Promise<AssignmentRow | undefined> {
  let query = db.selectFrom('assignments').selectAll().where('submission_id', '=', submissionId);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function insertAssignment(
  db: Db,
  row: Omit<AssignmentRow, 'submission_id' | 'ended_at' | 'settled_at'>,
): Promise<AssignmentRow> {
  return db
    .insertInto('assignments')
    .values({ ...row, submission_id: null, ended_at: null, settled_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Moves an assignment from one status to another, only if it is still in `from` (the caller holds
 * its row lock, so this is a safeguard rather than the concurrency control).
 */
export async function moveAssignment(
  db: Db,
  id: string,
  from: readonly AssignmentStatus[],
  set: Partial<Pick<AssignmentRow, 'status' | 'submission_id' | 'ended_at' | 'settled_at'>>,
): Promise<AssignmentRow | undefined> {
  return db
    .updateTable('assignments')
    .set(set)
    .where('id', '=', id)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/** A contributor's assignments, newest first, from `before` on (exclusive). */
export async function listAssignments(
  db: Db,
  query: {
    contributorId: string;
    status?: AssignmentStatus;
    before?: { claimedAt: Date; id: string };
    limit: number;
  },
): Promise<AssignmentRow[]> {
  let select = db
    .selectFrom('assignments')
    .selectAll()
    .where('contributor_id', '=', query.contributorId)
    .orderBy('claimed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit);
  if (query.status) select = select.where('status', '=', query.status);
  const before = query.before;
  if (before) {
    // A row comparison walks the (contributor_id, claimed_at desc, id desc) index.
    select = select.where(sql<boolean>`(claimed_at, id) < (${before.claimedAt}, ${before.id})`);
  }
  return select.execute();
}
