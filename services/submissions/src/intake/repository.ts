import type { TaskInput, TaskType } from '@tessera/contracts';
import { type Expression, type Kysely, type Selectable, type SqlBool, sql, type Transaction } from 'kysely';
import type { SubmissionsDB, SubmissionsTable } from '../db/schema.ts';
import type { Claim, Earlier, MediaView, TaskView } from './decide.ts';

type Db = Kysely<SubmissionsDB> | Transaction<SubmissionsDB>;

export type SubmissionRow = Selectable<SubmissionsTable>;

/** The claim as the read model holds it, with what it promised. */
export interface ClaimRecord extends Claim {
  reward: { amount: number; currency: string };
  xpReward: number;
}

export async function findClaim(db: Db, id: string): Promise<ClaimRecord | null> {
  const row = await db.selectFrom('claims').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
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

export interface TaskRecord extends TaskView {
  judgesRequired: number;
  isGolden: boolean;
}

export async function findTask(db: Db, id: string): Promise<TaskRecord | null> {
  const row = await db.selectFrom('task_views').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
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
