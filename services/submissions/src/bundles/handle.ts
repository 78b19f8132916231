import { createHash, randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  type Clock,
  eventMeta,
  isUniqueViolation,
  orRefuse,
  runOnce,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import {
  type Actor,
  type BundleMedia,
  campaignPseudonymKey,
  decideNextVersion,
  manifestLineOf,
  mediaPathOf,
  pseudonymOf,
  serializeLine,
} from './decide.ts';
import { approvedItemPages, type BundleRow, latestVersion, lockCampaignBundles } from './repository.ts';

export interface BundleDeps {
  db: Kysely<SubmissionsDB>;
  clock: Clock;
  /** SUBMISSIONS_PSEUDONYM_KEY (or the development key). */
  pseudonymKey: Buffer;
  /** Approved submissions read and written at a time (`BUNDLE_PAGE`); tests make it small. */
  pageSize?: number;
}

export interface NewBundleRequest {
  campaignId: string;
  companyId: string;
  actor: Actor;
  idempotencyKey?: string | undefined;
}

/** How a bundle is answered (the 201's `bundle`, also what an Idempotency-Key replay returns). */
export interface BundleView {
  id: string;
  campaign_id: string;
  version: number;
  items: number;
  created_at: string;
  manifest_sha256: string;
}

export function presentBundle(row: BundleRow): BundleView {
  return {
    id: row.id,
    campaign_id: row.campaign_id,
    version: row.version,
    items: row.items,
    created_at: new Date(row.created_at).toISOString(),
    manifest_sha256: row.manifest_sha256.trim(),
  };
}

/**
 * Freezes a campaign's approved submissions so far into its next bundle version, in one
 * transaction: the campaign's makers queue on a lock, the version is the next after the latest,
 * and the approved work is read a page at a time from one snapshot (`approvedItemPages`): each
 * item's manifest line is written verbatim with its bytes folded into the manifest's SHA-256, and
 * the media files are recorded with where the store keeps them. Only a page is held in memory.
 * With an Idempotency-Key a retried request answers the bundle the first one made instead of
 * making another version.
 */
export async function createBundle(deps: BundleDeps, request: NewBundleRequest): Promise<BundleView> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(
        deps.db,
        {
          principalId: request.actor.id,
          operation: 'create-bundle',
          key: request.idempotencyKey,
          body: { campaign_id: request.campaignId },
        },
        deps.clock(),
        201,
        (trx) => freeze(trx, deps, request, deps.clock()),
      );
    } catch (error) {
      // The lock makes this unreachable among instances of this code; the key is the backstop.
      if (attempt < 3 && isUniqueViolation(error, 'bundles_campaign_version')) continue;
      throw error;
    }
  }
}

async function freeze(
  trx: Kysely<SubmissionsDB>,
  deps: BundleDeps,
  request: NewBundleRequest,
  now: Date,
): Promise<BundleView> {
  await lockCampaignBundles(trx, request.campaignId);
  const latest = await latestVersion(trx, request.campaignId);
  const bundleId = randomUUID();
  const campaignKey = campaignPseudonymKey(deps.pseudonymKey, request.campaignId);
  const manifest = createHash('sha256');
  let manifestBytes = 0;
  let items = 0;
  let mediaFiles = 0;
  // A page of approved work at a time: its manifest lines are written and folded into the hash, and
  // its media files recorded (a file already recorded from an earlier page is kept as it was).
  for await (const page of approvedItemPages(trx, request.campaignId, deps.pageSize)) {
    const files = new Map<string, BundleMedia & { storage_key: string }>();
    const lines = page.map((item) => {
      const line = serializeLine(manifestLineOf(item, pseudonymOf(campaignKey, item.contributorId)));
      const bytes = Buffer.from(`${line}\n`, 'utf8');
      manifest.update(bytes);
      manifestBytes += bytes.length;
      for (const m of item.media) {
        const path = mediaPathOf(m.sha256, m.contentType);
        if (!files.has(path)) {
          files.set(path, {
            sha256: m.sha256,
            path,
            bytes: m.bytes,
            content_type: m.contentType,
            storage_key: m.storageKey,
          });
        }
      }
      items += 1;
      return { bundle_id: bundleId, position: items, submission_id: item.submissionId, line };
    });
    await trx.insertInto('bundle_items').values(lines).execute();
    if (files.size > 0) {
      const recorded = await trx
        .insertInto('bundle_media')
        .values([...files.values()].map((m) => ({ bundle_id: bundleId, ...m })))
        .onConflict((oc) => oc.columns(['bundle_id', 'path']).doNothing())
        .returning('path')
        .execute();
      mediaFiles += recorded.length;
    }
  }
  // Nothing approved: the refusal undoes the transaction (no item was written either).
  const version = orRefuse(decideNextVersion({ latestVersion: latest, approved: items }));
  const row = await trx
    .insertInto('bundles')
    .values({
      id: bundleId,
      campaign_id: request.campaignId,
      company_id: request.companyId,
      version,
      items,
      media_files: mediaFiles,
      manifest_bytes: manifestBytes,
      manifest_sha256: manifest.digest('hex'),
      created_by: request.actor.id,
      created_via: request.actor.via,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  // Companies may be told (engagement's webhooks): references only, never the manifest.
  await appendToOutbox(trx, [
    buildEvent(
      'submissions.bundle.published.v1',
      {
        bundle_id: row.id,
        campaign_id: row.campaign_id,
        company_id: row.company_id,
        version: row.version,
        items: row.items,
        manifest_sha256: row.manifest_sha256,
      },
      eventMeta(row.id, now),
    ),
  ]);
  return presentBundle(row);
}

/** Writes who downloads which bundle, now; the archive is streamed only after this committed. */
export async function recordDownload(
  deps: Pick<BundleDeps, 'db' | 'clock'>,
  bundleId: string,
  actor: Actor,
): Promise<void> {
  await deps.db
    .insertInto('bundle_downloads')
    .values({
      id: randomUUID(),
      bundle_id: bundleId,
      downloaded_by: actor.id,
      downloaded_via: actor.via,
      downloaded_at: deps.clock(),
    })
    .execute();
}
