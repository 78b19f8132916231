import { after, lockName, type Position } from '@tessera/service-kit';
import { type Kysely, type Selectable, type Transaction } from 'kysely';
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

/**
 * The campaign's approved submissions now, in the order they were approved, with their tasks'
 * inputs and their media (one statement reads the set, so it is one consistent snapshot; approved
 * work and its media never change afterwards).
 */
export async function approvedItems(db: Db, campaignId: string): Promise<StoredItem[]> {
  const rows = await db
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
    .orderBy('s.id')
    .execute();
  const media = new Map<string, StoredItem['media']>();
  const ids = rows.map((row) => row.id);
  for (let i = 0; i < ids.length; i += 1000) {
    const found = await db
      .selectFrom('media')
      .select(['submission_id', 'sha256', 'bytes', 'content_type', 'storage_key'])
      .where('submission_id', 'in', ids.slice(i, i + 1000))
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
