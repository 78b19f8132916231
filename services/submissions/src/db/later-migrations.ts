import { type Kysely, type Migration, sql } from 'kysely';

/** Pre-validation, verdicts, revisions and appeals (merged into submissionsMigrations). */
export const laterMigrations: Record<string, Migration> = {
  '0010_verdicts_and_appeals': {
    async up(db: Kysely<unknown>) {
      await sql`
        alter table submissions
          add column verdict_method text check (verdict_method in ('consensus', 'golden', 'admin', 'appeal')),
          add column verdict_confidence double precision,
          add column quality_score double precision,
          add column verdict_answer jsonb,
          add column answer_confidence double precision`.execute(db);
      await sql`create index submissions_revision_due on submissions (revision_deadline) where status = 'revision_requested'`.execute(
        db,
      );
      await sql`
        create table appeals (
          id uuid primary key,
          submission_id uuid not null unique references submissions (id),
          contributor_id uuid not null,
          reason text not null,
          status text not null check (status in ('open', 'upheld', 'overturned')),
          filed_at timestamptz not null,
          decided_at timestamptz
        )`.execute(db);
    },
  },
  '0011_prevalidation': {
    async up(db: Kysely<unknown>) {
      await sql`
        alter table submissions
          add column perceptual_hash char(16),
          add column text_hash char(64),
          add column screening_attempts integer not null default 0`.execute(db);
      await sql`create index submissions_received on submissions (submitted_at) where status = 'received'`.execute(
        db,
      );
      await sql`create index submissions_phash on submissions (campaign_id) where perceptual_hash is not null`.execute(
        db,
      );
      await sql`create index submissions_text_hash on submissions (campaign_id, text_hash) where text_hash is not null`.execute(
        db,
      );
    },
  },
};
