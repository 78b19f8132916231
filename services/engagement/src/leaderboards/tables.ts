import type { ColumnType } from 'kysely';
import { type Kysely, type Migration, sql } from 'kysely';

/** A calendar day (YYYY-MM-DD), always read back as text. */
type Day = ColumnType<string, string, string>;
/** bigint columns: the kit makes pg parse int8 as numbers. */
type Count = ColumnType<number, number | string | undefined, number | string>;

/**
 * One user's total on one board (period, its start, metric). `listed`: the user is an active
 * contributor (only they rank); the rank index holds listed rows only, so "how many are ahead of
 * me" is one index-only range count.
 */
export interface LeaderboardTotalsTable {
  period: string;
  period_start: Day;
  metric: string;
  user_id: string;
  value: Count;
  listed: boolean;
}

/** Approved submissions already counted on the `approved` boards. */
export interface LeaderboardApprovalsTable {
  submission_id: string;
}

export interface LeaderboardTables {
  leaderboard_totals: LeaderboardTotalsTable;
  leaderboard_approvals: LeaderboardApprovalsTable;
}

export const leaderboardsMigrations: Record<string, Migration> = {
  '0030_leaderboards': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table leaderboard_totals (
          period text not null check (period in ('weekly', 'monthly', 'all_time')),
          period_start date not null,
          metric text not null check (metric in ('xp', 'approved')),
          user_id uuid not null,
          value bigint not null,
          listed boolean not null,
          primary key (period, period_start, metric, user_id)
        )`.execute(db);
      await sql`
        create index leaderboard_totals_rank
          on leaderboard_totals (period, period_start, metric, value desc, user_id) where listed`.execute(db);
      await sql`create index leaderboard_totals_user on leaderboard_totals (user_id)`.execute(db);
      await sql`create table leaderboard_approvals (submission_id uuid primary key)`.execute(db);

      await sql`
        create function leaderboard_listed(who uuid) returns boolean language sql stable as $$
          select exists (
            select 1 from users where user_id = who and role = 'contributor' and status = 'active')
        $$`.execute(db);
      // XP is written by standing, badges, missions and standing's decay job alike: a trigger on
      // the entries and on standings' total keeps the boards in the same transaction as every
      // one of them, whoever wrote it. All-time XP is standing's (never below zero), not a sum.
      await sql`
        create function leaderboard_xp_entry() returns trigger language plpgsql as $$
        begin
          insert into leaderboard_totals (period, period_start, metric, user_id, value, listed)
          values
            ('weekly', date_trunc('week', new.at at time zone 'UTC')::date, 'xp', new.user_id, new.amount,
              leaderboard_listed(new.user_id)),
            ('monthly', date_trunc('month', new.at at time zone 'UTC')::date, 'xp', new.user_id, new.amount,
              leaderboard_listed(new.user_id))
          on conflict (period, period_start, metric, user_id)
            do update set value = leaderboard_totals.value + excluded.value;
          return null;
        end $$`.execute(db);
      await sql`
        create trigger leaderboard_xp_entries after insert on xp_entries
          for each row execute function leaderboard_xp_entry()`.execute(db);
      await sql`
        create function leaderboard_standing_xp() returns trigger language plpgsql as $$
        begin
          insert into leaderboard_totals (period, period_start, metric, user_id, value, listed)
          values ('all_time', date '1970-01-01', 'xp', new.user_id, new.xp, leaderboard_listed(new.user_id))
          on conflict (period, period_start, metric, user_id)
            do update set value = excluded.value where leaderboard_totals.value <> excluded.value;
          return null;
        end $$`.execute(db);
      await sql`
        create trigger leaderboard_standings after insert or update of xp on standings
          for each row execute function leaderboard_standing_xp()`.execute(db);
    },
  },
};
