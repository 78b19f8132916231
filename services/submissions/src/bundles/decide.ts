import { createHmac } from 'node:crypto';
import {
  accept,
  type CompanyAccessPolicy,
  type CompanyNeed,
  type Decision,
  decideCompanyAccess,
  type Membership,
  type Principal,
  refuse,
  reject,
} from '@tessera/service-kit';

/**
 * The rules of dataset bundles, pure: who may make and read them, the next version, what one
 * manifest line holds, and the pseudonym a contributor goes by in a campaign's bundles.
 */

/**
 * Company members read their campaigns' bundles (list, download, the download log); API keys need
 * `datasets:read`. Making a bundle takes a manager, or a key with `submissions:review` (there is no
 * dataset write scope: freezing approved work is a reviewer's act, as in `submissionsAccess`).
 * Admins do everything. A key with `submissions:review` also reads bundles (a write scope reads).
 */
export const bundlesAccess: CompanyAccessPolicy = {
  readScopes: ['datasets:read'],
  writeScopes: ['submissions:review'],
  writeRoles: ['manager'],
  writeDetail: 'Only managers of this company (or API keys with submissions:review) and admins make bundles.',
};

export const bundleNotFound = () => refuse.notFound('No such bundle.', 'BUNDLE_NOT_FOUND');
export const campaignNotFound = () => refuse.notFound('No such campaign.', 'CAMPAIGN_NOT_FOUND');

/** What the caller may do with a company's bundles; whoever may not read gets `hidden` (404). */
export function decideBundleAccess(
  principal: Principal,
  companyId: string,
  membership: Membership,
  need: CompanyNeed,
  hidden = bundleNotFound(),
): Decision<void> {
  return decideCompanyAccess(principal, companyId, membership, need, bundlesAccess, hidden);
}

/** What the campaign holds when a bundle is asked for. */
export interface CampaignBundles {
  /** The highest version made so far, or null before the first. */
  latestVersion: number | null;
  /** How many of its submissions are approved now. */
  approved: number;
}

/** The next version of a campaign's bundles: v1, v2, ...; nothing approved, nothing to freeze. */
export function decideNextVersion(state: CampaignBundles): Decision<number> {
  if (state.approved === 0) {
    return reject(
      refuse.conflict(
        'NOTHING_TO_BUNDLE',
        'This campaign has no approved submission yet; a bundle freezes approved work.',
      ),
    );
  }
  return accept((state.latestVersion ?? 0) + 1);
}

/** Who acted (made a bundle, downloaded one), as the logs keep it. */
export interface Actor {
  /** The user id, or an API key's id. */
  id: string;
  via: 'member' | 'api_key' | 'admin';
}

export function actorOf(principal: Principal): Actor {
  const id = principal.userId.toLowerCase();
  if (principal.companyId !== undefined) return { id, via: 'api_key' };
  return { id, via: principal.role === 'admin' ? 'admin' : 'member' };
}

/** The file extension a bundle gives media of each Content-Type we store (`media/decide.ts`). */
const extensions: Readonly<Record<string, string>> = {
  'audio/wav': 'wav',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
  'audio/mp4': 'm4a',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
};

/** Where a media file sits in the archive: `media/<sha256>.<ext>` (one file per content). */
export function mediaPathOf(sha256: string, contentType: string): string {
  return `media/${sha256}.${extensions[contentType] ?? 'bin'}`;
}

/**
 * The per-campaign secret pseudonyms derive from: HMAC-SHA256 of the campaign id under the
 * service's key (SUBMISSIONS_PSEUDONYM_KEY). Nothing is stored per campaign.
 */
export function campaignPseudonymKey(serviceKey: Buffer, campaignId: string): Buffer {
  return createHmac('sha256', serviceKey)
    .update(`tessera/bundles/pseudonym/v1:${campaignId.toLowerCase()}`)
    .digest();
}

/**
 * A contributor's name in one campaign's bundles (given that campaign's key): the same in every
 * version of that campaign, unrelated across campaigns, and not reversible without the service's
 * key (HMAC-SHA256, 128 bits kept). Never the user id or an email.
 */
export function pseudonymOf(campaignKey: Buffer, contributorId: string): string {
  const mac = createHmac('sha256', campaignKey).update(contributorId.toLowerCase()).digest('hex');
  return `c_${mac.slice(0, 32)}`;
}

export interface BundleMedia {
  sha256: string;
  path: string;
  bytes: number;
  content_type: string;
}

/** One approved submission as it goes into a bundle. */
export interface ItemSource {
  submissionId: string;
  taskId: string;
  taskType: string;
  taskInput: unknown;
  payload: unknown;
  contributorId: string;
  answer: unknown;
  answerConfidence: number | null;
  verdictConfidence: number | null;
  verdictMethod: string | null;
  qualityScore: number | null;
  media: readonly { sha256: string; bytes: number; contentType: string }[];
}

/** One line of `manifest.jsonl`, in this key order. */
export interface ManifestLine {
  submission_id: string;
  task_id: string;
  task_type: string;
  task_input: unknown;
  payload: unknown;
  answer: unknown;
  answer_confidence: number | null;
  verdict: { method: string | null; confidence: number | null };
  quality_score: number | null;
  media: BundleMedia[];
  contributor: string;
}

/** What a manifest line says of an item; the contributor only by the campaign's pseudonym. */
export function manifestLineOf(item: ItemSource, pseudonym: string): ManifestLine {
  return {
    submission_id: item.submissionId,
    task_id: item.taskId,
    task_type: item.taskType,
    task_input: item.taskInput,
    payload: item.payload,
    answer: item.answer ?? null,
    answer_confidence: item.answerConfidence,
    verdict: { method: item.verdictMethod, confidence: item.verdictConfidence },
    quality_score: item.qualityScore,
    media: [...item.media]
      .map((m) => ({
        sha256: m.sha256,
        path: mediaPathOf(m.sha256, m.contentType),
        bytes: m.bytes,
        content_type: m.contentType,
      }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    contributor: pseudonym,
  };
}

/** The line as stored and served: JSON on one line, no trailing newline (the manifest adds it). */
export function serializeLine(line: ManifestLine): string {
  return JSON.stringify(line);
}

/** One line of `checksums.sha256`, as `sha256sum` writes and `sha256sum -c` reads it. */
export function checksumLine(sha256: string, path: string): string {
  return `${sha256}  ${path}\n`;
}
