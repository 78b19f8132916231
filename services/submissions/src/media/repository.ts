import { notParked } from '@tessera/service-kit';
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import { accessLasts } from '../listing/repository.ts';
import type { MediaDeletionsTable, MediaTable, SubmissionsDB } from '../db/schema.ts';

export type MediaRow = Selectable<MediaTable>;
export type MediaDeletion = Selectable<MediaDeletionsTable>;

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

/**
 * Uploads no submission holds, made before `before`, oldest first, through the partial index
 * `media_orphaned`; without those the job `parkedBy` parked. Read without locks: the sweep takes
 * each one's lock and looks again (`lockMediaUnlessHeld`).
 */
export async function orphanedMedia(
  db: Kysely<SubmissionsDB>,
  before: Date,
  options: { limit: number; parkedBy?: string | undefined },
): Promise<{ id: string }[]> {
  const { parkedBy } = options;
  return db
    .selectFrom('media')
    .select('id')
    .where('submission_id', 'is', null)
    .where('created_at', '<', before)
    .$if(parkedBy !== undefined, (q) => q.where(notParked(parkedBy!, 'media.id')))
    .orderBy('created_at')
    .limit(options.limit)
    .execute();
}

/**
 * The media row, locked until the transaction ends, or null when it is gone or another transaction
 * holds it (`skip locked`): a hand-in attaching it holds it (intake/repository.ts `lockMedia` takes
 * the same lock, and waits for it), and the sweep leaves it to the hand-in rather than wait.
 */
export async function lockMediaUnlessHeld(
  trx: Transaction<SubmissionsDB>,
  id: string,
): Promise<MediaRow | null> {
  const row = await trx
    .selectFrom('media')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  return row ?? null;
}

/**
 * Deletes the (locked) media row and records its object for removal, in the caller's transaction:
 * once it commits, no hand-in finds the item, and the object may go.
 */
export async function deleteMediaRow(
  trx: Transaction<SubmissionsDB>,
  row: Pick<MediaRow, 'id' | 'storage_key' | 'uploader_id'>,
  now: Date,
): Promise<MediaDeletion> {
  const deletion = await trx
    .insertInto('media_deletions')
    .values({ media_id: row.id, storage_key: row.storage_key, requested_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('media_expired')
    .values({ media_id: row.id, uploader_id: row.uploader_id, expired_at: now })
    .onConflict((oc) => oc.column('media_id').doNothing())
    .execute();
  await trx.deleteFrom('media').where('id', '=', row.id).execute();
  return deletion;
}

/** Forgets removals older than `before`, at most `limit` of them. */
export async function forgetExpiredMedia(
  db: Kysely<SubmissionsDB>,
  before: Date,
  limit: number,
): Promise<void> {
  const oldest = db
    .selectFrom('media_expired')
    .select('media_id')
    .where('expired_at', '<', before)
    .orderBy('expired_at')
    .limit(limit);
  await db.deleteFrom('media_expired').where('media_id', 'in', oldest).execute();
}

/** Objects of swept media still to be removed (a removal failed), oldest first; not those parked. */
export async function pendingMediaDeletions(
  db: Kysely<SubmissionsDB>,
  options: { limit: number; parkedBy?: string | undefined },
): Promise<MediaDeletion[]> {
  const { parkedBy } = options;
  return db
    .selectFrom('media_deletions')
    .selectAll()
    .$if(parkedBy !== undefined, (q) => q.where(notParked(parkedBy!, 'media_deletions.media_id')))
    .orderBy('requested_at')
    .orderBy('media_id')
    .limit(options.limit)
    .execute();
}

/** The object of a swept item is gone: nothing is left of it. */
export async function forgetMediaDeletion(db: Kysely<SubmissionsDB>, mediaId: string): Promise<void> {
  await db.deleteFrom('media_deletions').where('media_id', '=', mediaId).execute();
}
