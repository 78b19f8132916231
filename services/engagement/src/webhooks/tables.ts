import type { ServiceMigration } from '@tessera/service-kit';
import { type ColumnType, type Kysely, sql } from 'kysely';
import type { DeliveryEventType, WebhookEvent, WebhookPayload } from './payloads.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/** A company's endpoint. Deleted ones stay (their deliveries keep their log) but are never shown. */
export interface WebhooksTable {
  id: string;
  company_id: string;
  url: string;
  events: WebhookEvent[];
  description: string;
  active: boolean;
  /** The signing secret, sealed (secrets.ts); never returned after creation or rotation. */
  secret_key_id: string;
  secret_sealed: Buffer;
  /** The secret before the last rotation, still signed with until `previous_secret_expires_at`. */
  previous_secret_key_id: string | null;
  previous_secret_sealed: Buffer | null;
  previous_secret_expires_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
  /** The first failed attempt since the last delivered one (null: not failing). */
  failing_since: NullableTimestamp;
  /** Set when the platform switched it off (`failing`); cleared when it is switched on again. */
  disabled_at: NullableTimestamp;
  disabled_reason: WebhookDisabledReason | null;
}

export type WebhookDisabledReason = 'failing';

/** One event to one webhook, and where its sending stands. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  /** The bus event it tells (or the ping's own id): unique per webhook, so replays queue nothing. */
  event_id: string;
  event_type: DeliveryEventType;
  payload: ColumnType<WebhookPayload, string, string>;
  status: DeliveryStatus;
  attempts: number;
  /** `attempts` when it was last queued (created or redelivered): the round's budget counts from it. */
  round_start: number;
  last_status_code: number | null;
  last_error: string | null;
  /** When it is due (pending), or until when a sender holds it (claimed); null once settled. */
  next_attempt_at: NullableTimestamp;
  /** The sender's claim on an attempt under way; its outcome settles the delivery only if it still holds. */
  claim: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  delivered_at: NullableTimestamp;
}

export interface WebhookDeliveryAttemptsTable {
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  at: Timestamp;
}

/** This capability's tables (merged into engagement's database type). */
export interface WebhookTables {
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
}

export const webhooksMigrations: Record<string, ServiceMigration> = {
  '0060_webhooks': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table webhooks (
          id uuid primary key,
          company_id uuid not null,
          url text not null check (length(url) <= 2048),
          events text[] not null check (
            cardinality(events) > 0
            and events <@ array['submission.approved', 'bundle.published', 'campaign.paused']::text[]
          ),
          description text not null default '',
          active boolean not null,
          secret_key_id text not null,
          secret_sealed bytea not null,
          previous_secret_key_id text,
          previous_secret_sealed bytea,
          previous_secret_expires_at timestamptz,
          created_at timestamptz not null,
          updated_at timestamptz not null,
          deleted_at timestamptz
        )`.execute(db);
      await sql`
        create index webhooks_by_company on webhooks (company_id, created_at desc, id desc)
        where deleted_at is null`.execute(db);
      await sql`
        create table webhook_deliveries (
          id uuid primary key,
          webhook_id uuid not null references webhooks (id),
          event_id uuid not null,
          event_type text not null,
          payload jsonb not null,
          status text not null check (status in ('pending', 'delivered', 'failed', 'cancelled')),
          attempts integer not null default 0 check (attempts >= 0),
          round_start integer not null default 0,
          last_status_code integer,
          last_error text,
          next_attempt_at timestamptz,
          claim uuid,
          created_at timestamptz not null,
          updated_at timestamptz not null,
          delivered_at timestamptz,
          unique (webhook_id, event_id)
        )`.execute(db);
      await sql`
        create index webhook_deliveries_due on webhook_deliveries (next_attempt_at)
        where status = 'pending'`.execute(db);
      await sql`
        create index webhook_deliveries_log on webhook_deliveries (webhook_id, created_at desc, id desc)
      `.execute(db);
      await sql`
        create table webhook_delivery_attempts (
          delivery_id uuid not null references webhook_deliveries (id),
          attempt integer not null,
          status_code integer,
          error text,
          duration_ms integer not null,
          at timestamptz not null,
          primary key (delivery_id, attempt)
        )`.execute(db);
    },
  },
  // Health: a webhook failing for ENGAGEMENT_WEBHOOK_DISABLE_AFTER_MS is switched off (sender.ts).
  '0960_webhook_health': {
    async up(db: Kysely<unknown>) {
      await sql`
        alter table webhooks
          add column failing_since timestamptz,
          add column disabled_at timestamptz,
          add column disabled_reason text check (disabled_reason in ('failing')),
          add constraint webhooks_disabled_reason check ((disabled_reason is null) = (disabled_at is null))
      `.execute(db);
    },
  },
  // The pruning walks settled deliveries oldest first (prune.ts). Built concurrently, outside a
  // transaction: the log has a row per event per webhook, and a plain build would stop the sender.
  '0961_webhook_deliveries_settled': {
    transaction: false,
    async up(db: Kysely<unknown>) {
      await sql`drop index concurrently if exists webhook_deliveries_settled`.execute(db);
      await sql`
        create index concurrently webhook_deliveries_settled on webhook_deliveries (updated_at)
        where status <> 'pending'`.execute(db);
    },
  },
};
