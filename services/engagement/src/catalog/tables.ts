import type { TaskType } from '@tessera/contracts';
import { type Kysely, type Migration, sql } from 'kysely';

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

export interface CatalogTables {
  catalog_tasks: CatalogTasksTable;
  catalog_campaigns: CatalogCampaignsTable;
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
};
