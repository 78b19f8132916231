import type { TaskInput, TaskType } from '@tessera/contracts';
import { type Expression, type Kysely, type Selectable, type SqlBool, sql, type Transaction } from 'kysely';
import type { ClaimsTable, SubmissionsDB, SubmissionsTable, TaskViewsTable } from '../db/schema.ts';
import type { Claim, Earlier, MediaView, TaskView } from './decide.ts';

type Db = Kysely<SubmissionsDB> | Transaction<SubmissionsDB>;

export type SubmissionRow = Selectable<SubmissionsTable>;

/** The claim as the read model holds it, with what it promised. */
export interface ClaimRecord extends Claim {
  reward: { amount: number; currency: string };
  xpReward: number;
}

export interface TaskRecord extends TaskView {
  judgesRequired: number;
  isGolden: boolean;
}

/**
 * A claim (null: not stored here yet) and its task (null: not yet, or unknown), in one round trip:
 * every hand-in asks for both, and a hand-in waiting for its claim asks at each look.
 */
export async function findClaimAndTask(
  db: Db,
  assignmentId: string,
): Promise<{ claim: ClaimRecord | null; task: TaskRecord | null }> {
  const row = await db
    .selectFrom('claims as c')
    .leftJoin('task_views as t', 't.id', 'c.task_id')
    .select([
      'c.id',
      'c.task_id',
      'c.campaign_id',
      'c.company_id',
      'c.contributor_id',
      'c.status',
      'c.expires_at',
      'c.reward_amount',
      'c.currency',
      'c.xp_reward',
      't.id as view_id',
      't.task_type',
      't.input',
      't.judges_required',
      't.is_golden',
    ])
    .where('c.id', '=', assignmentId)
    .executeTakeFirst();
  if (!row) return { claim: null, task: null };
  const task =
    row.view_id === null
      ? null
      : taskOf({
          id: row.view_id,
          task_type: row.task_type!,
          input: row.input,
          judges_required: row.judges_required!,
          is_golden: row.is_golden!,
        });
  return { claim: claimOf(row), task };
}

function claimOf(
  row: Pick<
    Selectable<ClaimsTable>,
    | 'id'
    | 'task_id'
    | 'campaign_id'
    | 'company_id'
    | 'contributor_id'
    | 'status'
    | 'expires_at'
    | 'reward_amount'
    | 'currency'
    | 'xp_reward'
  >,
): ClaimRecord {
  return {
    id: row.id,
    taskId: row.task_id,
    campaignId: row.campaign_id,
    companyId: row.company_id,
    contributorId: row.contributor_id,
    status: row.status,
    expiresAt: new Date(row.expires_at),
    reward: { amount: Number(row.reward_amount), currency: row.currency },
    xpReward: row.xp_reward,
  };
}

function taskOf(
  row: Pick<Selectable<TaskViewsTable>, 'id' | 'task_type' | 'input' | 'judges_required' | 'is_golden'>,
): TaskRecord {
  return {
    id: row.id,
    type: row.task_type as TaskType,
    input: row.input as TaskInput,
    judgesRequired: row.judges_required,
    isGolden: row.is_golden,
  };
}

/** The submission under a claim, locked until the transaction ends (two hand-ins queue here). */
export async function lockSubmissionOfClaim(trx: Transaction<SubmissionsDB>, assignmentId: string) {
  const row = await trx
    .selectFrom('submissions')
    .selectAll()
    .where('assignment_id', '=', assignmentId)
    .forUpdate()
    .executeTakeFirst();
  return row ?? null;
}

/**
 * Since when a submission has held its current content: the hand-in (first or revision) that brought
 * it; `created_at` for rows from before `content_since` was kept.
 */
export function contentSinceOf(row: Pick<SubmissionRow, 'content_since' | 'created_at'>): Date {
  return new Date(row.content_since ?? row.created_at);
}

/**
 * The `submissions` rows that held their content before `row` held its own: by `contentSinceOf`,
 * ties by id, so of two copies exactly one is the earlier.
 */
export function contentHeldBefore(
  row: Pick<SubmissionRow, 'id' | 'content_since' | 'created_at'>,
): Expression<SqlBool> {
  return sql<SqlBool>`(coalesce(content_since, created_at), id) < (${contentSinceOf(row)}, ${row.id}::uuid)`;
}

export function earlierOf(row: SubmissionRow | null): Earlier | null {
  if (!row) return null;
  return {
    id: row.id,
    status: row.status,
    revision: row.revision,
    revisionDeadline: row.revision_deadline ? new Date(row.revision_deadline) : null,
  };
}

/**
 * The media a hand-in names, locked until it commits: the media sweep takes the same row lock
 * (media/repository.ts `lockMediaUnlessHeld`, `skip locked`), so an upload the hand-in holds is not
 * swept, and one the sweep holds is waited for and then found gone (MEDIA_NOT_FOUND), never attached
 * after its object was removed.
 */
export async function lockMedia(
  trx: Transaction<SubmissionsDB>,
  ids: readonly string[],
): Promise<(MediaView & { sha256: string })[]> {
  if (ids.length === 0) return [];
  const rows = await trx.selectFrom('media').selectAll().where('id', 'in', ids).forUpdate().execute();
  return rows.map((row) => ({
    id: row.id,
    uploaderId: row.uploader_id,
    kind: row.kind,
    submissionId: row.submission_id,
    sha256: row.sha256,
  }));
}

/** Which of these ids name uploads of `uploaderId` the media sweep removed (and still remembers). */
export async function expiredMedia(
  trx: Transaction<SubmissionsDB>,
  ids: readonly string[],
  uploaderId: string,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await trx
    .selectFrom('media_expired')
    .select('media_id')
    .where('media_id', 'in', ids)
    .where('uploader_id', '=', uploaderId)
    .execute();
  return new Set(rows.map((row) => row.media_id));
}

export async function attachMedia(
  trx: Transaction<SubmissionsDB>,
  ids: readonly string[],
  submissionId: string,
) {
  if (ids.length === 0) return;
  await trx.updateTable('media').set({ submission_id: submissionId }).where('id', 'in', ids).execute();
}

export async function findSubmission(db: Db, id: string): Promise<SubmissionRow | null> {
  return (await db.selectFrom('submissions').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}
