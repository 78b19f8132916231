import { type CompanyMembersTable, createCompanyMembersTable } from '@tessera/service-kit';
import { type ColumnType, type Kysely, type Migration, sql } from 'kysely';

/**
 * What the ledger keeps from other services' events (event-carried state transfer) and its own
 * record of outcome events already published.
 */

/**
 * The company a campaign belongs to and its currency, from tasks.campaign.created.v1 (campaigns
 * funded before 0300_claims learned it from their first funding request). Funding debits only this company.
 */
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

/** A claim's reserved terms, from tasks.assignment.claimed.v1: what its reward and judge fees may be. */
export interface LedgerClaimsTable {
  assignment_id: string;
  campaign_id: string;
  contributor_id: string;
  currency: string;
  reward: number;
  judge_fee: number;
  max_judges: number;
  /** The submission whose reward was paid under the claim: one reward per claim. */
  rewarded_submission_id: string | null;
}

/** The judge fees paid under a claim: one per (claim, judge), at most the claim's max_judges. */
export interface LedgerClaimJudgeFeesTable {
  assignment_id: string;
  judge_id: string;
  review_id: string;
}

/**
 * The honeypot fees the ledger decided to pay (qc.honeypot.fee-earned.v1), keyed by the review the
 * transfer ids derive from: at most one per (judge, submission). Decided in a committed step of its
 * own before the engine moves money, so a redelivery replays the same transfers.
 */
export interface LedgerHoneypotFeesTable {
  review_id: string;
  judge_id: string;
  submission_id: string;
  assignment_id: string;
  decided_at: ColumnType<Date, never, never>;
}

/** What promotions paid per calendar month (UTC) and currency: bounded by LEDGER_PROMOTIONS_BUDGET_MINOR. */
export interface LedgerPromotionPeriodsTable {
  period: string;
  currency: string;
  spent: ColumnType<number, number, number>;
}

/** Every promotion the ledger decided, paid or refused (over budget): what an admin reads. */
export interface LedgerPromotionsTable {
  /** `bonus:<bonus id>` or `referral:<referral id>`. */
  promotion_key: string;
  user_id: string;
  period: string;
  currency: string;
  amount: ColumnType<number, number, never>;
  status: 'paid' | 'refused';
  reason_code: string | null;
  decided_at: ColumnType<Date, never, never>;
}

export interface MessagingTables {
  company_members: CompanyMembersTable;
  campaign_companies: CampaignCompaniesTable;
  ledger_claims: LedgerClaimsTable;
  ledger_claim_judge_fees: LedgerClaimJudgeFeesTable;
  ledger_honeypot_fees: LedgerHoneypotFeesTable;
  ledger_outcomes: LedgerOutcomesTable;
  ledger_promotion_periods: LedgerPromotionPeriodsTable;
  ledger_promotions: LedgerPromotionsTable;
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
  '0300_claims': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table ledger_claims (
          assignment_id uuid primary key,
          campaign_id uuid not null,
          contributor_id uuid not null,
          currency text not null,
          reward bigint not null check (reward >= 0),
          judge_fee bigint not null check (judge_fee >= 0),
          max_judges integer not null check (max_judges > 0),
          rewarded_submission_id uuid
        )`.execute(db);
      await sql`
        create table ledger_claim_judge_fees (
          assignment_id uuid not null references ledger_claims (assignment_id),
          judge_id uuid not null,
          review_id uuid not null,
          primary key (assignment_id, judge_id)
        )`.execute(db);
    },
  },
  '0310_promotions_budget': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table ledger_promotion_periods (
          period text not null,
          currency text not null,
          spent bigint not null default 0 check (spent >= 0),
          primary key (period, currency)
        )`.execute(db);
      await sql`
        create table ledger_promotions (
          promotion_key text primary key,
          user_id uuid not null,
          period text not null,
          currency text not null,
          amount bigint not null check (amount > 0),
          status text not null check (status in ('paid', 'refused')),
          reason_code text,
          decided_at timestamptz not null default now()
        )`.execute(db);
      await sql`create index ledger_promotions_refused on ledger_promotions (decided_at) where status = 'refused'`.execute(
        db,
      );
    },
  },
  '0410_honeypot_fees': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table ledger_honeypot_fees (
          review_id uuid primary key,
          judge_id uuid not null,
          submission_id uuid not null,
          assignment_id uuid not null references ledger_claims (assignment_id),
          decided_at timestamptz not null default now(),
          unique (judge_id, submission_id)
        )`.execute(db);
    },
  },
};
