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
import { approvedItems, type BundleRow, latestVersion, lockCampaignBundles } from './repository.ts';

export interface BundleDeps {
  db: Kysely<SubmissionsDB>;
  clock: Clock;
  /** SUBMISSIONS_PSEUDONYM_KEY (or the development key). */
  pseudonymKey: Buffer;
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

const INSERT_BATCH = 500;

/**
 * Freezes a campaign's approved submissions so far into its next bundle version, in one
 * transaction: the campaign's makers queue on a lock, the version is the next after the latest,
 * each item's manifest line is written verbatim with its hash folded into the manifest's SHA-256,
 * and the media files are recorded with where the store keeps them. With an Idempotency-Key a
 * retried request answers the bundle the first one made instead of making another version.
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
  const items = await approvedItems(trx, request.campaignId);
  const version = orRefuse(
    decideNextVersion({
      latestVersion: await latestVersion(trx, request.campaignId),
      approved: items.length,
    }),
  );
  const bundleId = randomUUID();
  const campaignKey = campaignPseudonymKey(deps.pseudonymKey, request.campaignId);
  const manifest = createHash('sha256');
  let manifestBytes = 0;
  const files = new Map<string, BundleMedia & { storage_key: string }>();
  for (let start = 0; start < items.length; start += INSERT_BATCH) {
    const batch = items.slice(start, start + INSERT_BATCH).map((item, i) => {
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
      return { bundle_id: bundleId, position: start + i + 1, submission_id: item.submissionId, line };
    });
    await trx.insertInto('bundle_items').values(batch).execute();
  }
  const media = [...files.values()];
  for (let start = 0; start < media.length; start += INSERT_BATCH) {
    await trx
      .insertInto('bundle_media')
      .values(media.slice(start, start + INSERT_BATCH).map((m) => ({ bundle_id: bundleId, ...m })))
      .execute();
  }
  const row = await trx
    .insertInto('bundles')
    .values({
      id: bundleId,
      campaign_id: request.campaignId,
      company_id: request.companyId,
      version,
      items: items.length,
      media_files: media.length,
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
