import { type ColumnType, type Kysely, type Migration, sql } from 'kysely';

/**
 * The read side: balances, statements, wallets, campaign budgets and transfers, all projected from
 * the ledger's event store by one projector, with its checkpoint written in the same transaction.
 * Nothing else writes these tables; `rebuildProjections` recreates them from the store.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<Record<string, string>, string, string>;

export interface ProjectionCheckpointTable {
  name: string;
  checkpoint: string | null;
}

/** Read by the audit CLI by these names and columns. */
export interface AccountBalancesTable {
  account_id: string;
  currency: string;
  kind: string;
  owner: string | null;
  debits_posted: number;
  credits_posted: number;
  debits_pending: number;
  credits_pending: number;
  /** Statement lines of this account so far: the next line's `seq`. */
  line_count: number;
  updated_at: Timestamp;
}

export type StatementPhase = 'pending' | 'posted' | 'voided' | 'expired';

export interface StatementLinesTable {
  account_id: string;
  currency: string;
  /** 1, 2, 3 ... per (account, currency): the statement's order and its cursor. */
  seq: number;
  transfer_id: string;
  code: string;
  direction: 'debit' | 'credit';
  phase: StatementPhase;
  amount: number;
  /** The other account of the transfer. */
  counterparty: string;
  /** Posted balance after this line (credits_posted - debits_posted). */
  balance: number;
  /** What the account could still give after this line (balance - debits_pending). */
  available: number;
  metadata: Json;
  at: Timestamp;
}

export type TransferStateColumn = 'posted' | 'pending' | 'voided' | 'expired';

export interface TransfersTable {
  id: string;
  debit_account: string;
  credit_account: string;
  currency: string;
  amount: number;
  code: string;
  state: TransferStateColumn;
  expires_at: Timestamp | null;
  metadata: Json;
  created_at: Timestamp;
  resolved_at: Timestamp | null;
}

export interface WalletsTable {
  user_id: string;
  currency: string;
  available: number;
  held: number;
  total_earned: number;
  total_withdrawn: number;
  updated_at: Timestamp;
}

export interface CampaignBudgetsTable {
  campaign_id: string;
  currency: string;
  /** From the funding transfers' metadata; null until the campaign was funded. */
  company_id: string | null;
  funded: number;
  spent: number;
  returned: number;
  remaining: number;
  updated_at: Timestamp;
}

export interface ProjectionTables {
  projection_checkpoint: ProjectionCheckpointTable;
  account_balances: AccountBalancesTable;
  statement_lines: StatementLinesTable;
  transfers: TransfersTable;
  wallets: WalletsTable;
  campaign_budgets: CampaignBudgetsTable;
}

/** The tables a rebuild empties and refills, in an order that compares deterministically. */
export const projectionTables = {
  account_balances: ['account_id', 'currency'],
  statement_lines: ['account_id', 'currency', 'seq'],
  transfers: ['id'],
  wallets: ['user_id', 'currency'],
  campaign_budgets: ['campaign_id', 'currency'],
} as const satisfies Partial<Record<keyof ProjectionTables, readonly string[]>>;

export const PROJECTOR_NAME = 'ledger';

export const projectionMigrations: Record<string, Migration> = {
  '0100_projections': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table projection_checkpoint (
          name text primary key,
          checkpoint text
        )`.execute(db);
      await sql`insert into projection_checkpoint (name, checkpoint) values (${PROJECTOR_NAME}, null)`.execute(
        db,
      );

      await sql`
        create table account_balances (
          account_id text not null,
          currency text not null,
          kind text not null,
          owner text,
          debits_posted bigint not null default 0,
          credits_posted bigint not null default 0,
          debits_pending bigint not null default 0,
          credits_pending bigint not null default 0,
          line_count bigint not null default 0,
          updated_at timestamptz not null,
          primary key (account_id, currency)
        )`.execute(db);
      await sql`create index account_balances_kind on account_balances (kind, currency)`.execute(db);

      await sql`
        create table statement_lines (
          account_id text not null,
          currency text not null,
          seq bigint not null,
          transfer_id uuid not null,
          code text not null,
          direction text not null check (direction in ('debit', 'credit')),
          phase text not null check (phase in ('pending', 'posted', 'voided', 'expired')),
          amount bigint not null check (amount > 0),
          counterparty text not null,
          balance bigint not null,
          available bigint not null,
          metadata jsonb not null,
          at timestamptz not null,
          primary key (account_id, currency, seq)
        )`.execute(db);
      await sql`create index statement_lines_transfer on statement_lines (transfer_id)`.execute(db);

      await sql`
        create table transfers (
          id uuid primary key,
          debit_account text not null,
          credit_account text not null,
          currency text not null,
          amount bigint not null,
          code text not null,
          state text not null check (state in ('posted', 'pending', 'voided', 'expired')),
          expires_at timestamptz,
          metadata jsonb not null,
          created_at timestamptz not null,
          resolved_at timestamptz
        )`.execute(db);
      await sql`create index transfers_expiring on transfers (expires_at) where state = 'pending' and expires_at is not null`.execute(
        db,
      );

      await sql`
        create table wallets (
          user_id uuid not null,
          currency text not null,
          available bigint not null,
          held bigint not null,
          total_earned bigint not null,
          total_withdrawn bigint not null,
          updated_at timestamptz not null,
          primary key (user_id, currency)
        )`.execute(db);

      await sql`
        create table campaign_budgets (
          campaign_id uuid not null,
          currency text not null,
          company_id uuid,
          funded bigint not null,
          spent bigint not null,
          returned bigint not null,
          remaining bigint not null,
          updated_at timestamptz not null,
          primary key (campaign_id, currency)
        )`.execute(db);
    },
  },
};
