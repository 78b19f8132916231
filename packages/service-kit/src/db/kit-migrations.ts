import { type ColumnType, type Generated, type Kysely, type Migration, sql } from 'kysely';

export const kitMigrations: Record<string, Migration> = {
  '0001_outbox_inbox_dead_letters': {
    async up(db: Kysely<unknown>) {
      // transaction_id lets the relay read only rows whose transactions can no
      // longer be overtaken by an earlier, still-open one (see outbox-relay.ts).
      await sql`
        create table outbox (
          position bigserial primary key,
          transaction_id xid8 not null default pg_current_xact_id(),
          event_id uuid not null unique,
          type text not null,
          subject text not null,
          payload jsonb not null,
          created_at timestamptz not null default now(),
          published_at timestamptz
        )`.execute(db);
      await sql`create index outbox_unpublished on outbox (transaction_id, position) where published_at is null`.execute(
        db,
      );
      await sql`create index outbox_published_at on outbox (published_at) where published_at is not null`.execute(
        db,
      );

      await sql`
        create table inbox (
          consumer text not null,
          event_id uuid not null,
          type text not null,
          handled_at timestamptz not null default now(),
          primary key (consumer, event_id)
        )`.execute(db);

      await sql`
        create table dead_letters (
          id bigserial primary key,
          consumer text not null,
          event_id text,
          type text,
          nats_subject text not null,
          stream_sequence bigint,
          payload text not null,
          error_code text not null,
          error text not null,
          deliveries integer not null,
          failed_at timestamptz not null default now(),
          replayed_at timestamptz
        )`.execute(db);
      await sql`create index dead_letters_open on dead_letters (consumer, id) where replayed_at is null`.execute(
        db,
      );
    },
  },
  // Identity's revoked sessions and API keys, read by the kit's auth layer (read-models/revocations.ts).
  '0002_revoked_principals': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table revoked_principals (
          kind text not null,
          principal_id text not null,
          revoked_at timestamptz not null,
          tokens_expire_by timestamptz not null,
          primary key (kind, principal_id)
        )`.execute(db);
      await sql`create index revoked_principals_expiry on revoked_principals (tokens_expire_by)`.execute(db);
    },
  },
  // An operator may close a dead letter without replaying it, saying why (who and when are kept):
  // "zero dead letters, or each one explained".
  '0003_dead_letter_dismissal': {
    async up(db: Kysely<unknown>) {
      await sql`alter table dead_letters
        add column dismissed_at timestamptz,
        add column dismissed_by text,
        add column dismiss_reason text,
        add constraint dead_letters_closed_once check (replayed_at is null or dismissed_at is null),
        add constraint dead_letters_dismissal_complete check (
          (dismissed_at is null) = (dismissed_by is null) and (dismissed_at is null) = (dismiss_reason is null))`.execute(
        db,
      );
      await sql`drop index dead_letters_open`.execute(db);
      await sql`create index dead_letters_open on dead_letters (consumer, id)
        where replayed_at is null and dismissed_at is null`.execute(db);
    },
  },
  // What periodic jobs failed on, and gave up on (parked-items.ts).
  '0004_job_item_failures': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table job_item_failures (
          job text not null,
          item text not null,
          failures integer not null check (failures > 0),
          error text not null,
          first_failed_at timestamptz not null,
          last_failed_at timestamptz not null,
          parked_at timestamptz,
          primary key (job, item)
        )`.execute(db);
    },
  },
};

export interface OutboxTable {
  position: Generated<number>;
  transaction_id: Generated<string>;
  event_id: string;
  type: string;
  subject: string;
  payload: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
  published_at: ColumnType<Date | null, never, Date>;
}

export interface InboxTable {
  consumer: string;
  event_id: string;
  type: string;
  handled_at: Generated<Date>;
}

export interface DeadLetterTable {
  id: Generated<number>;
  consumer: string;
  event_id: string | null;
  type: string | null;
  nats_subject: string;
  stream_sequence: number | null;
  payload: string;
  error_code: string;
  error: string;
  deliveries: number;
  failed_at: Generated<Date>;
  replayed_at: ColumnType<Date | null, never, Date>;
  dismissed_at: ColumnType<Date | null, never, Date>;
  dismissed_by: ColumnType<string | null, never, string>;
  dismiss_reason: ColumnType<string | null, never, string>;
}

export interface RevokedPrincipalsTable {
  /** `session` (a token's `sid`) or `api_key` (an API key token's `sub`). */
  kind: string;
  principal_id: string;
  revoked_at: ColumnType<Date, Date | string, Date | string>;
  tokens_expire_by: ColumnType<Date, Date | string, Date | string>;
}

export interface JobItemFailuresTable {
  job: string;
  item: string;
  failures: number;
  error: string;
  first_failed_at: Date;
  last_failed_at: Date;
  parked_at: Date | null;
}

/** The kit's tables; a service's database interface extends this. */
export interface KitTables {
  outbox: OutboxTable;
  inbox: InboxTable;
  dead_letters: DeadLetterTable;
  revoked_principals: RevokedPrincipalsTable;
  job_item_failures: JobItemFailuresTable;
}

/**
 * Any service's database or transaction. Kysely's types are invariant in the
 * table map, so kit functions that only touch the kit's tables take this.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDatabase = Kysely<any>;
