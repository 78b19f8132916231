import { type Kysely, type Migration, sql } from 'kysely';

/** Fraud signals and screening's later tables (merged into submissionsMigrations). */
export const fraudMigrations: Record<string, Migration> = {
  '0013_fraud_flags': {
    async up(db: Kysely<unknown>) {
      // `dedupe_key` makes a signal fire once per submission (too fast, shared content) or once per
      // contributor and day (bursts, a low approval rate), whatever the retries.
      await sql`
        create table fraud_flags (
          id uuid primary key,
          contributor_id uuid not null,
          signal text not null check (signal in ('too_fast', 'burst', 'low_approval_rate', 'shared_content')),
          submission_id uuid,
          campaign_id uuid,
          details jsonb not null,
          dedupe_key text not null unique,
          raised_at timestamptz not null
        )`.execute(db);
      await sql`create index fraud_flags_recent on fraud_flags (raised_at desc, id desc)`.execute(db);
      await sql`create index fraud_flags_submission on fraud_flags (submission_id) where submission_id is not null`.execute(
        db,
      );
    },
  },
  // The claim fixes what judging it pays (tasks.assignment.claimed.v1); QC learns it from the
  // validated event.
  '0014_claim_judging_terms': {
    async up(db: Kysely<unknown>) {
      await sql`
        alter table claims
          add column judge_fee_amount bigint not null default 0,
          add column max_judges integer not null default 5`.execute(db);
    },
  },
  '0015_screening_retry': {
    async up(db: Kysely<unknown>) {
      // A hand-in whose screening faulted waits until then; the hand-ins behind it go on meanwhile.
      await sql`alter table submissions add column screening_retry_at timestamptz`.execute(db);
    },
  },
  '0016_photo_hash_chunks': {
    async up(db: Kysely<unknown>) {
      // Each photo's perceptual hash in four 16-bit chunks: near copies are looked up by chunk
      // (prevalidation/near-copy.ts), not by reading every photo of the campaign.
      await sql`
        create table photo_hash_chunks (
          campaign_id uuid not null,
          chunk smallint not null check (chunk between 0 and 3),
          value integer not null check (value between 0 and 65535),
          submission_id uuid not null,
          hash char(16) not null,
          -- The whole hash in the index: a probe compares it without visiting the table.
          primary key (campaign_id, chunk, value, submission_id) include (hash)
        )`.execute(db);
      await sql`create index photo_hash_chunks_submission on photo_hash_chunks (submission_id)`.execute(db);
      await backfillPhotoHashChunks(db);
    },
  },
};

/** The chunks of every stored hash that has none (photos screened before 0016). */
export async function backfillPhotoHashChunks(db: Kysely<unknown>): Promise<void> {
  await sql`
    insert into photo_hash_chunks (campaign_id, chunk, value, submission_id, hash)
    select s.campaign_id, g.chunk, ('x' || substr(s.perceptual_hash, 1 + 4 * g.chunk, 4))::bit(16)::int, s.id,
      s.perceptual_hash
    from submissions as s cross join generate_series(0, 3) as g(chunk)
    where s.perceptual_hash is not null
      and not exists (select 1 from photo_hash_chunks as c where c.submission_id = s.id)`.execute(db);
}
