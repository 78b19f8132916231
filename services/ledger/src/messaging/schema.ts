import { type CompanyMembersTable, createCompanyMembersTable } from '@tessera/service-kit';
import { type ColumnType, type Kysely, type Migration, sql } from 'kysely';

/**
 * What the ledger keeps from other services' events (event-carried state transfer) and its own
 * record of outcome events already published.
 */

/** The company a campaign belongs to and the currency it is funded in, from tasks' funding requests. */
export interface CampaignCompaniesTable {
  campaign_id: string;
  company_id: string;
  currency: string;
}

/**
 * One row per outcome the ledger announced (e.g. `ledger.reward.paid.v1:<submission id>`), written
 * with the outbox row: an outcome reached again by another path (a re-sent event with a new id, a
 * retried HTTP request) is not announced twice.
 */
export interface LedgerOutcomesTable {
  key: string;
  event_id: string;
  type: string;
  created_at: ColumnType<Date, never, never>;
}

export interface MessagingTables {
  company_members: CompanyMembersTable;
  campaign_companies: CampaignCompaniesTable;
  ledger_outcomes: LedgerOutcomesTable;
}

export const messagingMigrations: Record<string, Migration> = {
  '0110_read_models_and_outcomes': {
    async up(db: Kysely<unknown>) {
      await createCompanyMembersTable(db);
      await sql`
        create table campaign_companies (
          campaign_id uuid primary key,
          company_id uuid not null,
          currency text not null
        )`.execute(db);
      await sql`
        create table ledger_outcomes (
          key text primary key,
          event_id uuid not null,
          type text not null,
          created_at timestamptz not null default now()
        )`.execute(db);
    },
  },
};
