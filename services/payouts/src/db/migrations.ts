import { idempotencyKeysMigration } from '@tessera/service-kit';
import { type Kysely, type Migration, sql } from 'kysely';

/** Payouts' tables; the kit's (outbox, inbox, dead letters) are migrated separately. */
export const payoutsMigrations: Record<string, Migration> = {
  '0001_payouts': {
    async up(db: Kysely<unknown>) {
      // What withdrawals need to know about a user, from identity and engagement (each source
      // with the time of its event: an older event handled late never wins; erasure is final).
      await sql`
        create table users (
          user_id uuid primary key,
          role text,
          status text not null default 'active' check (status in ('active', 'suspended', 'erased')),
          email_verified boolean not null default false,
          trust_score numeric(3, 1) not null default 5.0,
          status_changed_at timestamptz,
          trust_changed_at timestamptz
        )`.execute(db);

      // Payout methods: the details only encrypted (AES-256-GCM, with the id of the key), and a
      // masked form (****1234) to show. Deleted methods keep their row (withdrawals name them)
      // but lose their details.
      await sql`
        create table payout_methods (
          id uuid primary key,
          user_id uuid not null,
          type text not null check (type in ('paypal', 'bank_transfer', 'crypto_usdc')),
          masked text not null,
          key_id text,
          encrypted_details bytea,
          usable_from timestamptz not null,
          created_at timestamptz not null,
          deleted_at timestamptz
        )`.execute(db);
      await sql`create index payout_methods_user on payout_methods (user_id, created_at desc) where deleted_at is null`.execute(
        db,
      );

      await sql`
        create table withdrawals (
          id uuid primary key,
          user_id uuid not null,
          method_id uuid not null references payout_methods (id),
          method_type text not null,
          amount bigint not null check (amount > 0),
          currency char(3) not null,
          status text not null check (status in (
            'requested', 'pending_review', 'approved', 'processing', 'completed', 'failed', 'rejected', 'cancelled')),
          provider text,
          external_transaction_id text,
          reason_code text,
          attempts integer not null default 0,
          next_attempt_at timestamptz,
          decided_by uuid,
          requested_at timestamptz not null,
          held_at timestamptz,
          approved_at timestamptz,
          processing_at timestamptz,
          finished_at timestamptz,
          updated_at timestamptz not null
        )`.execute(db);
      await sql`create index withdrawals_user on withdrawals (user_id, requested_at desc, id desc)`.execute(
        db,
      );
      await sql`create index withdrawals_status on withdrawals (status, requested_at, id)`.execute(db);
      await sql`create index withdrawals_due on withdrawals (next_attempt_at) where status in ('approved', 'processing')`.execute(
        db,
      );
    },
  },
  '0002_idempotency_keys': idempotencyKeysMigration,
  '0003_withdrawal_sent_at': {
    async up(db: Kysely<unknown>) {
      // When the sender first called the provider for a withdrawal: from then on the payout may be
      // out, and only the provider's own final status may fail it (withdrawals/decide.ts
      // `decideSenderAnswer`). A withdrawal already processing may have been sent.
      await sql`alter table withdrawals add column sent_at timestamptz`.execute(db);
      await sql`update withdrawals set sent_at = processing_at where status = 'processing'`.execute(db);
      // Processing rows a crash left without a next attempt (before the sender's lease) are asked
      // again; the manual provider's wait for an admin, not for the sender.
      await sql`
        update withdrawals set next_attempt_at = now()
        where status = 'processing' and next_attempt_at is null
          and provider is distinct from 'manual'`.execute(db);
    },
  },
  '0004_withdrawal_reconciliation': {
    async up(db: Kysely<unknown>) {
      // What an admin recorded of a payout the sender parked for reconciliation, as the operator
      // found it at the provider (withdrawals/decide.ts `decideReconcile`): who, when, the provider's
      // reference they checked, and their note (admins only; never in events).
      await sql`
        alter table withdrawals
          add column reconciled_at timestamptz,
          add column reconciled_by uuid,
          add column reconciled_reference text,
          add column reconciled_note text`.execute(db);
    },
  },
  '0005_withdrawal_rejected_note': {
    async up(db: Kysely<unknown>) {
      // The admin's own words on why they refused a withdrawal (POST /admin/withdrawals/:id/reject
      // `reason`), beside its reason_code: admins only, never in events, and cleared by its user's
      // erasure (free text about a person).
      await sql`alter table withdrawals add column rejected_note text`.execute(db);
    },
  },
};
