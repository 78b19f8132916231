import type { ColumnType, Generated, Migration } from 'kysely';
import { type Kysely, sql } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** `date` columns: pg gives them as 'YYYY-MM-DD' strings (the kit parses no dates of its own). */
type Day = ColumnType<string | null, string | null | undefined, string | null>;
/** numeric columns come back as strings. */
type Decimal = ColumnType<string, number | string | undefined, number | string>;
type Counter = ColumnType<number, number | undefined, number>;
/** bigint columns: the kit makes pg parse int8 as numbers. */
type Count = ColumnType<number, number | string | undefined, number | string>;

/**
 * A user's standing: cumulative XP and its level, trust, streak and the counters stats show. A row
 * is created with every default by whichever event about the user arrives first.
 */
export interface StandingsTable {
  user_id: string;
  xp: Count;
  level: Generated<number>;
  updated_at: Timestamp;
  /** The trust score as shown and published: `trust_exact` rounded to one decimal (0–10). */
  trust_score: Decimal;
  /** The trust score at full precision (weights are hundredths); every movement adds to this. */
  trust_exact: Decimal;
  /** Consecutive active days ending on `streak_last_day` (the user's local days). */
  streak_days: Counter;
  streak_last_day: Day;
  /** The latest activity (a submission handed in, a review counted): decay counts from it. */
  last_active_at: NullableTimestamp;
  /** Approved submissions (once each). */
  tasks_completed: Counter;
  /** Reviews that counted toward a verdict (once each). */
  reviews_done: Counter;
  /** Submissions rejected by judges (stage review, revision or appeal; once each): accuracy's denominator. */
  rejections_at_review: Counter;
  /** Golden submissions approved (answered right) and rejected (answered wrong). */
  golden_right: Counter;
  golden_wrong: Counter;
  /** The UTC day XP last decayed (the decay job skips those done today). */
  decayed_on: Day;
}

/**
 * Every effect on standing other than XP, once per cause (`approval:<submission>`,
 * `rejection:<submission>`, `flag:<flag>`, `judge-removed:<event>`, `earning:<transfer>`, ...):
 * a redelivered event or a replay finds its cause and changes nothing.
 */
export interface StandingEffectsTable {
  cause: string;
  user_id: string;
  kind: EffectKind;
  /** The trust movement it made, after clamping to 0–10 (0 when it moved no trust). */
  trust_delta: Decimal;
  at: Timestamp;
}

export type EffectKind =
  | 'approval'
  | 'golden_approval'
  | 'rejection'
  | 'golden_rejection'
  | 'pre_validation_rejection'
  | 'overturn'
  | 'fraud_flag'
  | 'judge_removed'
  | 'earning';

/** Submissions of golden tasks (their verdict says whether the contributor answered right). */
export interface GoldenSubmissionsTable {
  submission_id: string;
}

/** Money earned per currency (rewards, judge fees, promotions), in minor units. */
export interface EarningsTable {
  user_id: string;
  currency: string;
  amount: Count;
}

/**
 * Every XP movement, once: `(source, source_id)` is unique, so a redelivered event or a raced
 * job adds nothing. Leaderboards by period sum these.
 */
export interface XpEntriesTable {
  id: Generated<string>;
  user_id: string;
  /** What earned (or took) it: submission, review, badge, mission, decay. */
  source: string;
  source_id: string;
  amount: number;
  at: Timestamp;
}

export interface StandingTables {
  standings: StandingsTable;
  xp_entries: XpEntriesTable;
  standing_effects: StandingEffectsTable;
  golden_submissions: GoldenSubmissionsTable;
  earnings: EarningsTable;
}

export const standingMigrations: Record<string, Migration> = {
  '0010_standing': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table standings (
          user_id uuid primary key,
          xp bigint not null default 0 check (xp >= 0),
          level integer not null default 1 check (level >= 1),
          updated_at timestamptz not null
        )`.execute(db);
      await sql`
        create table xp_entries (
          id uuid primary key default gen_random_uuid(),
          user_id uuid not null,
          source text not null,
          source_id text not null,
          amount integer not null,
          at timestamptz not null,
          unique (source, source_id)
        )`.execute(db);
      await sql`create index xp_entries_user on xp_entries (user_id, at)`.execute(db);
      await sql`create index xp_entries_at on xp_entries (at)`.execute(db);
    },
  },
  '0011_standing_progress': {
    async up(db: Kysely<unknown>) {
      await sql`
        alter table standings
          add column trust_score numeric(3,1) not null default 5.0 check (trust_score between 0 and 10),
          add column trust_exact numeric(5,2) not null default 5.00 check (trust_exact between 0 and 10),
          add column streak_days integer not null default 0 check (streak_days >= 0),
          add column streak_last_day date,
          add column last_active_at timestamptz,
          add column tasks_completed integer not null default 0,
          add column reviews_done integer not null default 0,
          add column rejections_at_review integer not null default 0,
          add column golden_right integer not null default 0,
          add column golden_wrong integer not null default 0,
          add column decayed_on date`.execute(db);
      await sql`
        create table standing_effects (
          cause text primary key,
          user_id uuid not null,
          kind text not null,
          trust_delta numeric(5,2) not null default 0,
          at timestamptz not null
        )`.execute(db);
      await sql`create table golden_submissions (submission_id uuid primary key)`.execute(db);
      await sql`
        create table earnings (
          user_id uuid not null,
          currency text not null,
          amount bigint not null default 0,
          primary key (user_id, currency)
        )`.execute(db);
    },
  },
};
