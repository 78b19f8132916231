import {
  createCompanyMembersTable,
  idempotencyKeysMigration,
  type ServiceMigration,
} from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import { fraudMigrations } from './fraud-migrations.ts';
import { laterMigrations } from './later-migrations.ts';

/** Submissions' tables; the kit's (outbox, inbox, dead letters) are migrated separately. */
export const submissionsMigrations: Record<string, ServiceMigration> = {
  '0001_read_models': {
    async up(db: Kysely<unknown>) {
      // Tasks' claims and tasks, as their events told us; `changed_at` is the time of the event a
      // row reflects, so an older event delivered late never overwrites a newer one.
      await sql`
        create table claims (
          id uuid primary key,
          task_id uuid not null,
          campaign_id uuid not null,
          company_id uuid not null,
          contributor_id uuid not null,
          reward_amount bigint not null check (reward_amount >= 0),
          currency char(3) not null,
          xp_reward integer not null check (xp_reward >= 0),
          expires_at timestamptz not null,
          status text not null check (status in ('active', 'released', 'expired')),
          changed_at timestamptz not null
        )`.execute(db);
      await sql`
        create table task_views (
          id uuid primary key,
          campaign_id uuid not null,
          company_id uuid not null,
          task_type text not null,
          input jsonb not null,
          judges_required integer not null,
          is_golden boolean not null,
          changed_at timestamptz not null
        )`.execute(db);
      await createCompanyMembersTable(db);
    },
  },
  '0002_submissions_and_media': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table media (
          id uuid primary key,
          uploader_id uuid not null,
          kind text not null check (kind in ('audio', 'image')),
          content_type text not null,
          bytes bigint not null check (bytes > 0),
          sha256 char(64) not null,
          storage_key text not null,
          submission_id uuid,
          created_at timestamptz not null
        )`.execute(db);
      await sql`create index media_uploader on media (uploader_id, created_at desc)`.execute(db);
      await sql`create index media_submission on media (submission_id) where submission_id is not null`.execute(
        db,
      );

      await sql`
        create table submissions (
          id uuid primary key,
          assignment_id uuid not null unique,
          task_id uuid not null,
          campaign_id uuid not null,
          company_id uuid not null,
          contributor_id uuid not null,
          task_type text not null,
          status text not null
            check (status in ('received', 'in_review', 'revision_requested', 'approved', 'rejected')),
          revision integer not null default 1 check (revision between 1 and 2),
          payload jsonb not null,
          answer jsonb,
          content_sha256 char(64),
          time_spent_seconds integer not null check (time_spent_seconds >= 0),
          reward_amount bigint not null check (reward_amount >= 0),
          currency char(3) not null,
          xp_reward integer not null check (xp_reward >= 0),
          reason_codes text[] not null default '{}',
          revision_deadline timestamptz,
          submitted_at timestamptz not null,
          decided_at timestamptz,
          created_at timestamptz not null,
          updated_at timestamptz not null
        )`.execute(db);
      await sql`create index submissions_contributor on submissions (contributor_id, created_at desc, id desc)`.execute(
        db,
      );
      await sql`create index submissions_campaign on submissions (campaign_id, created_at desc, id desc)`.execute(
        db,
      );
      await sql`create index submissions_status on submissions (status, created_at desc, id desc)`.execute(
        db,
      );
      await sql`create index submissions_content on submissions (content_sha256) where content_sha256 is not null`.execute(
        db,
      );
    },
  },
  '0003_idempotency_keys': idempotencyKeysMigration,
  '0004_review_access': {
    async up(db: Kysely<unknown>) {
      // Which judges QC assigned to which submission: they may read its content and media.
      await sql`
        create table review_access (
          submission_id uuid not null,
          judge_id uuid not null,
          review_id uuid not null,
          granted_at timestamptz not null,
          primary key (submission_id, judge_id)
        )`.execute(db);
    },
  },
  ...laterMigrations,
  ...fraudMigrations,
  '0017_review_access_until': {
    async up(db: Kysely<unknown>) {
      // A judge reads a submission while the lease QC gave them lasts, not for good: leasing and
      // releasing in a loop no longer collects lasting access to other people's work. Nullable, no
      // rewrite of the table: access granted before (null) lasts a day from its grant
      // (listing/repository.ts `accessLasts`), and an instance of the older code still running during
      // an upgrade can insert its grants.
      await sql`alter table review_access add column access_until timestamptz`.execute(db);
    },
  },
  '0018_submissions_content_since': {
    async up(db: Kysely<unknown>) {
      // Since when a submission has held its current content: its hand-in, or a revision that
      // changed it (a revision handing in the same bytes again keeps the time). Exact copies and
      // shared content are judged by it, not by `created_at`, which a revision keeps. Nullable, no
      // rewrite of the table: null (rows from before, and rows an instance of the older code writes
      // during an upgrade) reads as `created_at`, what the older code compared.
      await sql`alter table submissions add column content_since timestamptz`.execute(db);
    },
  },
  '0019_media_orphan_sweep': {
    async up(db: Kysely<unknown>) {
      // A swept item's row is deleted with this written in the same transaction, and this deleted
      // once its object is gone: the object is removed only after no hand-in can find the row any
      // more, and an object whose removal failed is retried (and parked) by its media id.
      await sql`
        create table media_deletions (
          media_id uuid primary key,
          storage_key text not null,
          requested_at timestamptz not null
        )`.execute(db);
      await sql`create index media_deletions_requested on media_deletions (requested_at)`.execute(db);
    },
  },
  // The media sweep walks the uploads no submission holds, oldest first (media/repository.ts
  // `orphanedMedia`): a partial index holds only those, a small part of the table. Built
  // concurrently, outside a transaction: `media` has a row per upload ever made, and a plain build
  // would stop every upload and hand-in until it ends.
  '0020_media_orphaned_index': {
    transaction: false,
    async up(db: Kysely<unknown>) {
      await sql`drop index concurrently if exists media_orphaned`.execute(db);
      await sql`create index concurrently media_orphaned on media (created_at) where submission_id is null`.execute(
        db,
      );
    },
  },
  // What the sweep removed, remembered for a while: a hand-in naming an expired upload is told it
  // expired (MEDIA_EXPIRED), not that it was never uploaded. Pruned by the sweep after 30 days.
  '0021_media_expired': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table media_expired (
          media_id uuid primary key,
          uploader_id text not null,
          expired_at timestamptz not null
        )`.execute(db);
      await sql`create index media_expired_at on media_expired (expired_at)`.execute(db);
    },
  },
};
