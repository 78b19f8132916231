import { type Kysely, type Migration, sql } from 'kysely';

/** Fraud signals and screening retries (merged into submissionsMigrations). */
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
};
