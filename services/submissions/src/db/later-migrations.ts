import { type Kysely, type Migration, sql } from 'kysely';

/** Pre-validation, verdicts, revisions, appeals and dataset bundles (merged into submissionsMigrations). */
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
  '0012_bundles': {
    async up(db: Kysely<unknown>) {
      // Dataset bundles: numbered, immutable versions of a campaign's approved work. Each item keeps
      // its manifest line verbatim, so a bundle always yields the same manifest bytes (whatever
      // later happens to tasks' inputs or the pseudonym key); its media are frozen with it.
      await sql`
        create table bundles (
          id uuid primary key,
          campaign_id uuid not null,
          company_id uuid not null,
          version integer not null check (version >= 1),
          items integer not null check (items >= 1),
          media_files integer not null check (media_files >= 0),
          manifest_bytes bigint not null check (manifest_bytes > 0),
          manifest_sha256 char(64) not null,
          created_by text not null,
          created_via text not null check (created_via in ('member', 'api_key', 'admin')),
          created_at timestamptz not null,
          constraint bundles_campaign_version unique (campaign_id, version)
        )`.execute(db);
      // The bundle row is written after its items (it carries the manifest's hash): deferred keys.
      await sql`
        create table bundle_items (
          bundle_id uuid not null references bundles (id) deferrable initially deferred,
          position integer not null check (position >= 1),
          submission_id uuid not null references submissions (id),
          line text not null,
          primary key (bundle_id, position),
          unique (bundle_id, submission_id)
        )`.execute(db);
      await sql`
        create table bundle_media (
          bundle_id uuid not null references bundles (id) deferrable initially deferred,
          path text not null,
          sha256 char(64) not null,
          bytes bigint not null check (bytes > 0),
          content_type text not null,
          storage_key text not null,
          primary key (bundle_id, path)
        )`.execute(db);
      await sql`
        create table bundle_downloads (
          id uuid primary key,
          bundle_id uuid not null references bundles (id),
          downloaded_by text not null,
          downloaded_via text not null check (downloaded_via in ('member', 'api_key', 'admin')),
          downloaded_at timestamptz not null
        )`.execute(db);
      await sql`create index bundle_downloads_recent on bundle_downloads (bundle_id, downloaded_at desc, id desc)`.execute(
        db,
      );
      // Bundles and their download log are never changed or deleted (erasure is not built yet).
      await sql`
        create function bundles_immutable() returns trigger language plpgsql as $$
        begin
          raise exception '% rows are never changed or deleted', tg_table_name
            using errcode = 'restrict_violation';
        end $$`.execute(db);
      for (const table of ['bundles', 'bundle_items', 'bundle_media', 'bundle_downloads']) {
        await sql`
          create trigger ${sql.id(`${table}_immutable`)} before update or delete on ${sql.table(table)}
          for each row execute function bundles_immutable()`.execute(db);
        await sql`
          create trigger ${sql.id(`${table}_not_truncated`)} before truncate on ${sql.table(table)}
          for each statement execute function bundles_immutable()`.execute(db);
      }
    },
  },
};
