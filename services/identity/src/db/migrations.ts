import { type Migration, sql } from 'kysely';
import { idempotencyKeysMigration } from '@tessera/service-kit';

export const migrations: Record<string, Migration> = {
  '0001_identity': {
    async up(db) {
      await sql`
        create table users (
          id uuid primary key,
          email text,
          password_hash text,
          full_name text,
          role text not null check (role in ('contributor', 'company', 'admin')),
          status text not null default 'active' check (status in ('active', 'suspended', 'erased')),
          suspension_reason text,
          suspension_reason_code text,
          email_verified_at timestamptz,
          bio text,
          location text,
          country text,
          preferred_language text,
          languages text[] not null default '{}',
          avatar_url text,
          created_at timestamptz not null,
          updated_at timestamptz not null,
          last_login_at timestamptz,
          erased_at timestamptz,
          check (status = 'erased' or (email is not null and password_hash is not null))
        )`.execute(db);
      await sql`create unique index users_email_unique on users (lower(email)) where email is not null`.execute(
        db,
      );
      await sql`create index users_newest_first on users (created_at desc, id desc)`.execute(db);
      await sql`create index users_admins on users (id) where role = 'admin' and status <> 'erased'`.execute(
        db,
      );

      await sql`
        create table sessions (
          id uuid primary key,
          user_id uuid not null references users (id),
          created_at timestamptz not null,
          last_refreshed_at timestamptz not null,
          expires_at timestamptz not null,
          revoked_at timestamptz,
          revoked_reason text
        )`.execute(db);
      await sql`create index sessions_open_by_user on sessions (user_id) where revoked_at is null`.execute(
        db,
      );

      await sql`
        create table refresh_tokens (
          token_hash text primary key,
          session_id uuid not null references sessions (id) on delete cascade,
          issued_at timestamptz not null,
          expires_at timestamptz not null,
          rotated_at timestamptz
        )`.execute(db);
      await sql`create index refresh_tokens_session on refresh_tokens (session_id)`.execute(db);

      await sql`
        create table one_time_codes (
          id uuid primary key,
          user_id uuid not null references users (id),
          purpose text not null check (purpose in ('email_verification', 'password_reset')),
          code_hash text not null,
          created_at timestamptz not null,
          expires_at timestamptz not null,
          attempts integer not null default 0,
          consumed_at timestamptz
        )`.execute(db);
      await sql`create index one_time_codes_by_user on one_time_codes (user_id, purpose, created_at desc)`.execute(
        db,
      );
      await sql`create index one_time_codes_by_hash on one_time_codes (code_hash)`.execute(db);

      await sql`
        create table login_throttle (
          key text primary key,
          failures integer not null,
          window_started_at timestamptz not null,
          locked_until timestamptz,
          updated_at timestamptz not null
        )`.execute(db);

      await sql`
        create table signing_keys (
          kid text primary key,
          public_jwk jsonb not null,
          private_key_encrypted text not null,
          created_at timestamptz not null,
          activates_at timestamptz not null,
          retired_at timestamptz
        )`.execute(db);

      await sql`
        create table companies (
          id uuid primary key,
          name text not null,
          logo_url text,
          billing_status text not null default 'pending'
            check (billing_status in ('pending', 'active', 'past_due', 'suspended')),
          created_by uuid not null references users (id),
          created_at timestamptz not null,
          updated_at timestamptz not null
        )`.execute(db);

      await sql`
        create table company_members (
          company_id uuid not null references companies (id),
          user_id uuid not null references users (id),
          member_role text not null check (member_role in ('manager', 'viewer', 'billing')),
          added_by uuid,
          added_at timestamptz not null,
          primary key (company_id, user_id)
        )`.execute(db);
      await sql`create index company_members_by_user on company_members (user_id)`.execute(db);

      await sql`
        create table api_keys (
          id uuid primary key,
          company_id uuid not null references companies (id),
          name text not null,
          prefix text not null unique,
          key_hash text not null,
          scopes text[] not null,
          created_by uuid not null references users (id),
          created_at timestamptz not null,
          last_used_at timestamptz,
          revoked_at timestamptz
        )`.execute(db);
      await sql`create index api_keys_by_company on api_keys (company_id, created_at desc)`.execute(db);

      await sql`
        create table dev_mailbox (
          id bigserial primary key,
          recipient text not null,
          subject text not null,
          body text not null,
          kind text not null,
          created_at timestamptz not null
        )`.execute(db);
      await sql`create index dev_mailbox_by_recipient on dev_mailbox (lower(recipient), id)`.execute(db);
    },
  },
  // Replays of a creating POST answer what the first one did (Idempotency-Key header).
  '0002_idempotency_keys': idempotencyKeysMigration,
  // Members join by accepting an invitation mailed to them (the secret is stored as SHA-256).
  '0003_company_invitations': {
    async up(db) {
      await sql`
        create table company_invitations (
          id uuid primary key,
          company_id uuid not null references companies (id),
          email text not null,
          member_role text not null check (member_role in ('manager', 'viewer', 'billing')),
          token_hash text not null unique,
          invited_by uuid not null references users (id),
          created_at timestamptz not null,
          expires_at timestamptz not null,
          accepted_at timestamptz,
          accepted_by uuid references users (id),
          revoked_at timestamptz
        )`.execute(db);
      await sql`create index company_invitations_open on company_invitations (company_id, expires_at)
        where accepted_at is null and revoked_at is null`.execute(db);
    },
  },
  // Erasure removes the invited address (users/erase.ts): an invitation keeps its address while
  // it is open; once accepted or revoked it may lose it. Erasure finds them by address.
  '0004_invitation_email_erasable': {
    async up(db) {
      await sql`alter table company_invitations alter column email drop not null`.execute(db);
      await sql`alter table company_invitations add constraint company_invitations_open_have_email
        check (email is not null or accepted_at is not null or revoked_at is not null)`.execute(db);
      await sql`create index company_invitations_by_email on company_invitations (lower(email))
        where email is not null`.execute(db);
    },
  },
};
