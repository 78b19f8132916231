import type { Insertable, Kysely, Selectable } from 'kysely';
import { accessLasts } from '../listing/repository.ts';
import type { MediaTable, SubmissionsDB } from '../db/schema.ts';

export type MediaRow = Selectable<MediaTable>;

export async function insertMedia(db: Kysely<SubmissionsDB>, row: Insertable<MediaTable>): Promise<MediaRow> {
  return db.insertInto('media').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findMedia(db: Kysely<SubmissionsDB>, id: string): Promise<MediaRow | null> {
  return (await db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

/** Who reads a submission besides its contributor: its company, and the judges whose lease lasts at `now`. */
export async function submissionReaders(
  db: Kysely<SubmissionsDB>,
  submissionId: string,
  now: Date,
): Promise<{ companyId: string; judgeIds: string[] } | null> {
  const submission = await db
    .selectFrom('submissions')
    .select('company_id')
    .where('id', '=', submissionId)
    .executeTakeFirst();
  if (!submission) return null;
  const judges = await db
    .selectFrom('review_access')
    .select('judge_id')
    .where('submission_id', '=', submissionId)
    .where(accessLasts(now))
    .execute();
  return { companyId: submission.company_id, judgeIds: judges.map((row) => row.judge_id) };
}
