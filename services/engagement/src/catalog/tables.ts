import type { TaskType } from '@tessera/contracts';
import { type ColumnType, type Kysely, type Migration, sql } from 'kysely';

/** What engagement needs of a task: its type (badges and missions by type) and campaign. */
export interface CatalogTasksTable {
  task_id: string;
  campaign_id: string;
  task_type: TaskType;
}

/** Which company runs a campaign (webhooks go to the campaign's company). */
export interface CatalogCampaignsTable {
  campaign_id: string;
  company_id: string;
}

/**
 * An event a capability could not apply yet because the task or the campaign it names has not been
 * announced by tasks (the streams are read independently): kept, and applied by that capability
 * once the catalog knows what it waits for (`catalog/waits.ts`).
 */
export interface CatalogWaitsTable {
  event_id: string;
  capability: string;
  /** Whose activity it is (erasure deletes the user's waits); null for none. */
  user_id: string | null;
  /** Waits for this task's type (null: not for a task). */
  task_id: string | null;
  /** Waits for this campaign's company (null: not for a campaign). */
  campaign_id: string | null;
  /** The whole event, as received. */
  event: ColumnType<unknown, string, string>;
  received_at: ColumnType<Date, Date, Date>;
}

/**
 * A wait an operator dropped (`catalog/waits.ts:dismissWait`): what it was and who dropped it, why.
 * Neither the event nor whose activity it was is kept.
 */
export interface CatalogWaitsDismissedTable {
  event_id: string;
  capability: string;
  event_type: string;
  task_id: string | null;
  campaign_id: string | null;
  received_at: ColumnType<Date, Date, Date>;
  dismissed_at: ColumnType<Date, Date, Date>;
  dismissed_by: string;
  dismiss_reason: string;
}

export interface CatalogTables {
  catalog_tasks: CatalogTasksTable;
  catalog_campaigns: CatalogCampaignsTable;
  catalog_waits: CatalogWaitsTable;
  catalog_waits_dismissed: CatalogWaitsDismissedTable;
}

export const catalogMigrations: Record<string, Migration> = {
  '0002_catalog': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table catalog_tasks (
          task_id uuid primary key,
          campaign_id uuid not null,
          task_type text not null
        )`.execute(db);
      await sql`
        create table catalog_campaigns (
          campaign_id uuid primary key,
          company_id uuid not null
        )`.execute(db);
    },
  },
  '0910_catalog_waits': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table catalog_waits (
          event_id uuid not null,
          capability text not null,
          user_id uuid,
          task_id uuid,
          campaign_id uuid,
          event jsonb not null,
          received_at timestamptz not null,
          primary key (event_id, capability),
          check (task_id is not null or campaign_id is not null)
        )`.execute(db);
      await sql`create index catalog_waits_task on catalog_waits (task_id) where task_id is not null`.execute(
        db,
      );
      await sql`create index catalog_waits_campaign on catalog_waits (campaign_id) where campaign_id is not null`.execute(
        db,
      );
      await sql`create index catalog_waits_user on catalog_waits (user_id) where user_id is not null`.execute(
        db,
      );
    },
  },
  // The waits oldest first: the job's due waits (`dueWaits`, by received_at and event_id), the
  // operators' list (the same order, then capability: one row per wait) and the oldest wait's age.
  '0940_catalog_waits_by_age': {
    async up(db: Kysely<unknown>) {
      await sql`create index catalog_waits_received on catalog_waits (received_at, event_id, capability)`.execute(
        db,
      );
    },
  },
  // What operators dropped: a wait for a task or campaign tasks will never announce.
  '0950_catalog_waits_dismissed': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table catalog_waits_dismissed (
          event_id uuid not null,
          capability text not null,
          event_type text not null,
          task_id uuid,
          campaign_id uuid,
          received_at timestamptz not null,
          dismissed_at timestamptz not null,
          dismissed_by text not null,
          dismiss_reason text not null,
          primary key (event_id, capability)
        )`.execute(db);
    },
  },
};
