import type { CompanyMembersTable, IdempotencyKeysTable, KitTables } from '@tessera/service-kit';
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string, string>;
/** bigint columns come back as strings from pg; we write numbers. */
type Amount = ColumnType<string, number | string, number | string>;

export interface ClaimsTable {
  id: string;
  task_id: string;
  campaign_id: string;
  company_id: string;
  contributor_id: string;
  reward_amount: Amount;
  currency: string;
  xp_reward: number;
  /** What each counted review of the work pays its judge, and how many judges at most (fixed at claim time). */
  judge_fee_amount: ColumnType<string, number | string | undefined, number | string>;
  max_judges: ColumnType<number, number | undefined, number>;
  expires_at: Timestamp;
  status: 'active' | 'released' | 'expired';
  changed_at: Timestamp;
}

export interface TaskViewsTable {
  id: string;
  campaign_id: string;
  company_id: string;
  task_type: string;
  input: Json;
  judges_required: number;
  is_golden: boolean;
  changed_at: Timestamp;
}

export interface MediaTable {
  id: string;
  uploader_id: string;
  kind: 'audio' | 'image';
  content_type: string;
  bytes: Amount;
  sha256: string;
  storage_key: string;
  submission_id: string | null;
  created_at: Timestamp;
}

/**
 * A swept media item whose row is gone and whose stored object is still to be removed (or could not
 * be yet): written with the row's deletion, deleted once the object is gone.
 */
export interface MediaDeletionsTable {
  media_id: string;
  storage_key: string;
  requested_at: Timestamp;
}

export interface MediaExpiredTable {
  media_id: string;
  uploader_id: string;
  expired_at: Timestamp;
}

export interface SubmissionsTable {
  id: string;
  assignment_id: string;
  task_id: string;
  campaign_id: string;
  company_id: string;
  contributor_id: string;
  task_type: string;
  status: 'received' | 'in_review' | 'revision_requested' | 'approved' | 'rejected';
  revision: number;
  payload: Json;
  answer: Json | null;
  content_sha256: string | null;
  time_spent_seconds: number;
  reward_amount: Amount;
  currency: string;
  xp_reward: number;
  reason_codes: string[];
  revision_deadline: Timestamp | null;
  submitted_at: Timestamp;
  decided_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** From QC's verdict: how it was reached, its confidence, the judges' quality score. */
  verdict_method: ColumnType<string | null, string | null | undefined, string | null>;
  verdict_confidence: ColumnType<number | null, number | null | undefined, number | null>;
  quality_score: ColumnType<number | null, number | null | undefined, number | null>;
  /** The aggregated answer (labels, option, preference) and its confidence, for bundles. */
  verdict_answer: ColumnType<unknown, string | null | undefined, string | null>;
  answer_confidence: ColumnType<number | null, number | null | undefined, number | null>;
  /** Pre-validation: the image's perceptual hash and the text's normalised hash, for duplicates. */
  perceptual_hash: ColumnType<string | null, string | null | undefined, string | null>;
  text_hash: ColumnType<string | null, string | null | undefined, string | null>;
  screening_attempts: ColumnType<number, number | undefined, number>;
  /** After a fault of ours while screening: not screened again before this time. */
  screening_retry_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /**
   * Since when it has held its current content (`content_sha256`): the hand-in that brought it.
   * Null for rows from before the column: `created_at` (see `contentSince`).
   */
  content_since: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface AppealsTable {
  id: string;
  submission_id: string;
  contributor_id: string;
  reason: string;
  status: 'open' | 'upheld' | 'overturned';
  filed_at: Timestamp;
  decided_at: Timestamp | null;
}

export interface ReviewAccessTable {
  submission_id: string;
  judge_id: string;
  review_id: string;
  granted_at: Timestamp;
  /**
   * The end of the judge's latest lease on it: they may read the submission until then. Null for a
   * grant older than the column: a day from `granted_at`.
   */
  access_until: Timestamp | null;
}

export interface FraudFlagsTable {
  id: string;
  contributor_id: string;
  signal: 'too_fast' | 'burst' | 'low_approval_rate' | 'shared_content';
  submission_id: string | null;
  campaign_id: string | null;
  details: Json;
  dedupe_key: string;
  raised_at: Timestamp;
}

/** A numbered, immutable version of a campaign's approved work (never changed or deleted). */
export interface BundlesTable {
  id: string;
  campaign_id: string;
  company_id: string;
  version: number;
  items: number;
  media_files: number;
  manifest_bytes: Amount;
  manifest_sha256: string;
  /** The user id or API key id that made it. */
  created_by: string;
  created_via: 'member' | 'api_key' | 'admin';
  created_at: Timestamp;
}

/** One submission of a bundle, with its manifest line verbatim (no newline). */
export interface BundleItemsTable {
  bundle_id: string;
  position: number;
  submission_id: string;
  line: string;
}

/** One media file of a bundle (`media/<sha256>.<ext>`), and where the store keeps it. */
export interface BundleMediaTable {
  bundle_id: string;
  path: string;
  sha256: string;
  bytes: Amount;
  content_type: string;
  storage_key: string;
}

/** Who downloaded which bundle when, written before the archive is streamed. */
export interface BundleDownloadsTable {
  id: string;
  bundle_id: string;
  downloaded_by: string;
  downloaded_via: 'member' | 'api_key' | 'admin';
  downloaded_at: Timestamp;
}

/** A stored perceptual hash's 16-bit chunks, by which near copies are found (prevalidation/near-copy.ts). */
export interface PhotoHashChunksTable {
  campaign_id: string;
  chunk: number;
  value: number;
  submission_id: string;
  /** The whole hash, compared in the index. */
  hash: string;
}

export interface SubmissionsDB extends KitTables {
  bundles: BundlesTable;
  bundle_items: BundleItemsTable;
  bundle_media: BundleMediaTable;
  bundle_downloads: BundleDownloadsTable;
  fraud_flags: FraudFlagsTable;
  photo_hash_chunks: PhotoHashChunksTable;
  appeals: AppealsTable;
  review_access: ReviewAccessTable;
  claims: ClaimsTable;
  task_views: TaskViewsTable;
  media: MediaTable;
  media_deletions: MediaDeletionsTable;
  media_expired: MediaExpiredTable;
  submissions: SubmissionsTable;
  company_members: CompanyMembersTable;
  idempotency_keys: IdempotencyKeysTable;
}
