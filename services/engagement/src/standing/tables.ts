import type { ColumnType, Generated, Migration } from 'kysely';
import { type Kysely, sql } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** bigint columns: the kit makes pg parse int8 as numbers. */
type Count = ColumnType<number, number | string | undefined, number | string>;

/** A user's standing: cumulative XP and its level (the rest of standing joins this row). */
export interface StandingsTable {
  user_id: string;
  xp: Count;
  level: Generated<number>;
  updated_at: Timestamp;
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
};
