import { after, lockName, type Position } from '@tessera/service-kit';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { BundleDownloadsTable, BundlesTable, SubmissionsDB } from '../db/schema.ts';
import type { ItemSource } from './decide.ts';

type Db = Kysely<SubmissionsDB> | Transaction<SubmissionsDB>;

export type BundleRow = Selectable<BundlesTable>;
export type DownloadRow = Selectable<BundleDownloadsTable>;

/**
 * Makers of one campaign's bundles queue here until the transaction ends, so that two never pick
 * the same version (the unique (campaign_id, version) key stays the backstop). Call it inside a
 * transaction: outside one the lock would end with the statement.
 */
export async function lockCampaignBundles(trx: Db, campaignId: string): Promise<void> {
  await lockName(trx, `bundles:${campaignId}`);
}

export async function latestVersion(db: Db, campaignId: string): Promise<number | null> {
  const row = await db
    .selectFrom('bundles')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('campaign_id', '=', campaignId)
    .executeTakeFirst();
  return row?.version ?? null;
}

/** Where each media file of an item is kept, besides what the manifest says of it. */
export type StoredItem = ItemSource & {
  media: (ItemSource['media'][number] & { storageKey: string })[];
};

/** One approved submission as the cursor reads it. */
interface ApprovedRow {
  id: string;
  task_id: string;
  task_type: string;
  input: unknown;
  payload: unknown;
  contributor_id: string;
  verdict_answer: unknown;
  answer_confidence: number | null;
  verdict_confidence: number | null;
  verdict_method: string | null;
  quality_score: number | null;
}

/** How many approved submissions a bundle reads and writes at a time. */
export const BUNDLE_PAGE = 500;

/**
 * The campaign's approved submissions now, in the order they were approved, with their tasks'
 * inputs and their media, `pageSize` at a time. One statement reads the set through a cursor of the
 * caller's transaction, so every page comes from one snapshot (approved work and its media never
 * change afterwards), and only a page is held at once (a payload runs to 100,000 characters).
 * Pages by key (`decided_at`, `id`), each its own statement, would each read a newer snapshot (an
 * approval committed meanwhile would be in or out by where its `decided_at` falls) and sort the
 * campaign's approved work again for every page. Call it inside a transaction, and read it to the
 * end before the next.
 */
export async function* approvedItemPages(
  trx: Db,
  campaignId: string,
  pageSize: number = BUNDLE_PAGE,
): AsyncGenerator<StoredItem[]> {
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`page size ${pageSize}`);
  const approved = trx
    .selectFrom('submissions as s')
    .innerJoin('task_views as t', 't.id', 's.task_id')
    .select([
      's.id',
      's.task_id',
      's.task_type',
      't.input',
      's.payload',
      's.contributor_id',
      's.verdict_answer',
      's.answer_confidence',
      's.verdict_confidence',
      's.verdict_method',
      's.quality_score',
    ])
    .where('s.campaign_id', '=', campaignId)
    .where('s.status', '=', 'approved')
    .orderBy('s.decided_at')
    .orderBy('s.id');
  const cursor = sql.id('bundle_approved_items');
  await sql`declare ${cursor} no scroll cursor for ${approved}`.execute(trx);
  for (;;) {
    const { rows } = await sql<ApprovedRow>`fetch forward ${sql.lit(pageSize)} from ${cursor}`.execute(trx);
    if (rows.length > 0) yield withMedia(trx, rows);
    if (rows.length < pageSize) break;
  }
  await sql`close ${cursor}`.execute(trx);
}

async function withMedia(db: Db, rows: ApprovedRow[]): Promise<StoredItem[]> {
  const media = new Map<string, StoredItem['media']>();
  const found = await db
    .selectFrom('media')
    .select(['submission_id', 'sha256', 'bytes', 'content_type', 'storage_key'])
    .where(
      'submission_id',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('id')
    .execute();
  for (const m of found) {
    const list = media.get(m.submission_id!) ?? [];
    list.push({
      sha256: m.sha256,
      bytes: Number(m.bytes),
      contentType: m.content_type,
      storageKey: m.storage_key,
    });
    media.set(m.submission_id!, list);
  }
  return rows.map((row) => ({
    submissionId: row.id,
    taskId: row.task_id,
    taskType: row.task_type,
    taskInput: row.input,
    payload: row.payload,
    contributorId: row.contributor_id,
    answer: row.verdict_answer,
    answerConfidence: row.answer_confidence,
    verdictConfidence: row.verdict_confidence,
    verdictMethod: row.verdict_method,
    qualityScore: row.quality_score,
    media: media.get(row.id) ?? [],
  }));
}

export async function findBundle(db: Db, id: string): Promise<BundleRow | null> {
  return (await db.selectFrom('bundles').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

/** A campaign's bundles, newest version first. */
export async function listBundles(db: Db, campaignId: string): Promise<BundleRow[]> {
  return db
    .selectFrom('bundles')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('version', 'desc')
    .execute();
}

/** The manifest's lines in order, a batch at a time (the manifest is never held whole). */
export async function* manifestLines(db: Db, bundleId: string, batch = 500): AsyncGenerator<string> {
  let position = 0;
  for (;;) {
    const rows = await db
      .selectFrom('bundle_items')
      .select(['position', 'line'])
      .where('bundle_id', '=', bundleId)
      .where('position', '>', position)
      .orderBy('position')
      .limit(batch)
      .execute();
    for (const row of rows) yield row.line;
    if (rows.length < batch) return;
    position = rows[rows.length - 1]!.position;
  }
}

export interface BundleFile {
  path: string;
  sha256: string;
  bytes: number;
  contentType: string;
  storageKey: string;
}

export async function bundleMedia(db: Db, bundleId: string): Promise<BundleFile[]> {
  const rows = await db
    .selectFrom('bundle_media')
    .selectAll()
    .where('bundle_id', '=', bundleId)
    .orderBy('path')
    .execute();
  return rows.map((row) => ({
    path: row.path,
    sha256: row.sha256,
    bytes: Number(row.bytes),
    contentType: row.content_type,
    storageKey: row.storage_key,
  }));
}

/** A bundle's download log, newest first by (downloaded_at, id); one row more than the page. */
export async function listDownloads(
  db: Db,
  bundleId: string,
  page: { cursor?: Position | undefined; limit: number },
): Promise<DownloadRow[]> {
  let query = db.selectFrom('bundle_downloads').selectAll().where('bundle_id', '=', bundleId);
  if (page.cursor) query = query.where(after(page.cursor, 'downloaded_at', 'id'));
  return query
    .orderBy('downloaded_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute();
}
