import type { ColumnType, Generated } from 'kysely';
import { type Kysely, type Migration, sql } from 'kysely';
import type { MissionCriteria } from './criteria.ts';

/** A calendar day (YYYY-MM-DD). Postgres `date`; always read back as text (`day::text`), never as a JS Date. */
type Day = ColumnType<string, string, string>;
type NullableDay = ColumnType<string | null, string | null | undefined, string | null>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** A daily mission an admin defined: reach `criteria.count` in one local day, rewarded once that day. */
export interface MissionsTable {
  id: string;
  code: string;
  title: string;
  description: string;
  criteria: ColumnType<MissionCriteria, string, string>;
  xp_reward: number;
  money_reward_amount: number | null;
  money_reward_currency: string | null;
  active: boolean;
  starts_on: NullableDay;
  ends_on: NullableDay;
  created_by: string;
  created_at: Timestamp;
}

/** A user's progress on a mission in one of their local days. */
export interface MissionProgressTable {
  mission_id: string;
  user_id: string;
  day: Day;
  progress: Generated<number>;
  completed_at: NullableTimestamp;
}

/** What has counted toward a mission for a user (a submission, a review): each counts once. */
export interface MissionCountedCausesTable {
  mission_id: string;
  user_id: string;
  cause_id: string;
}

export interface MissionTables {
  missions: MissionsTable;
  mission_progress: MissionProgressTable;
  mission_counted_causes: MissionCountedCausesTable;
}

export const missionsMigrations: Record<string, Migration> = {
  '0040_missions': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table missions (
          id uuid primary key,
          code text not null unique check (code ~ '^[a-z0-9_]{2,40}$'),
          title text not null,
          description text not null default '',
          criteria jsonb not null,
          xp_reward integer not null check (xp_reward >= 0),
          money_reward_amount bigint check (money_reward_amount > 0),
          money_reward_currency text,
          active boolean not null default true,
          starts_on date,
          ends_on date,
          created_by uuid not null,
          created_at timestamptz not null,
          check ((money_reward_amount is null) = (money_reward_currency is null)),
          check (starts_on is null or ends_on is null or starts_on <= ends_on)
        )`.execute(db);
      await sql`create index missions_created on missions (created_at desc, id desc)`.execute(db);
      await sql`
        create table mission_progress (
          mission_id uuid not null references missions (id),
          user_id uuid not null,
          day date not null,
          progress integer not null default 0 check (progress >= 0),
          completed_at timestamptz,
          primary key (mission_id, user_id, day)
        )`.execute(db);
      await sql`create index mission_progress_user on mission_progress (user_id, day)`.execute(db);
      await sql`
        create table mission_counted_causes (
          mission_id uuid not null references missions (id),
          user_id uuid not null,
          cause_id uuid not null,
          primary key (mission_id, user_id, cause_id)
        )`.execute(db);
      await sql`create index mission_counted_causes_user on mission_counted_causes (user_id)`.execute(db);
    },
  },
};
