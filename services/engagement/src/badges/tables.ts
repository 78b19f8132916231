import type { ColumnType } from 'kysely';
import { type Kysely, type Migration, sql } from 'kysely';
import { derivedId } from '../ids.ts';
import type { BadgeCriteria } from './criteria.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** bigint columns: the kit makes pg parse int8 as numbers. */
type Count = ColumnType<number, number | string | undefined, number | string>;

/** A badge as admins define it: what unlocks it and what it is worth, once per user. */
export interface BadgesTable {
  id: string;
  code: string;
  name: string;
  description: string;
  criteria: ColumnType<BadgeCriteria, string, string>;
  xp_bonus: number;
  money_bonus_amount: Count | null;
  money_bonus_currency: string | null;
  active: boolean;
  created_at: Timestamp;
}

export interface UserBadgesTable {
  user_id: string;
  badge_id: string;
  unlocked_at: Timestamp;
}

/**
 * Badges' own per-user counters: `metric` is tasks_completed (scope: '' for all, or a task type),
 * reviews_done (''), earnings_total (scope: the currency) or approvals_by_hour (scope: the local
 * hour '0'..'23' the approved work was received at).
 */
export interface BadgeCountersTable {
  user_id: string;
  metric: string;
  scope: string;
  value: Count;
}

/** Each cause (a submission, a review, a transfer) counts once, however many events tell of it. */
export interface BadgeCountedCausesTable {
  kind: string;
  cause_id: string;
  user_id: string;
}

/** When a submission was received, as a local hour of its contributor (night owl and friends). */
export interface BadgeReceiptsTable {
  submission_id: string;
  user_id: string;
  local_hour: number;
}

export interface BadgeTables {
  badges: BadgesTable;
  user_badges: UserBadgesTable;
  badge_counters: BadgeCountersTable;
  badge_counted_causes: BadgeCountedCausesTable;
  badge_receipts: BadgeReceiptsTable;
}

interface DefaultBadge {
  code: string;
  name: string;
  description: string;
  criteria: BadgeCriteria;
  xp_bonus: number;
}

/** What ships; admins add more (or switch these off). Ids derive from the code, so every install agrees. */
export const defaultBadges: readonly DefaultBadge[] = [
  {
    code: 'first_task',
    name: 'First Steps',
    description: 'Your first approved task.',
    criteria: { type: 'tasks_completed', threshold: 1 },
    xp_bonus: 25,
  },
  {
    code: 'ten_tasks',
    name: 'Getting Going',
    description: 'Ten approved tasks.',
    criteria: { type: 'tasks_completed', threshold: 10 },
    xp_bonus: 50,
  },
  {
    code: 'voice_50',
    name: '50 Voice Samples',
    description: 'Fifty approved audio tasks.',
    criteria: { type: 'tasks_completed', threshold: 50, task_type: 'audio' },
    xp_bonus: 150,
  },
  {
    code: 'night_owl',
    name: 'Night Owl',
    description: 'Ten approved tasks handed in between midnight and 5 am, your time.',
    criteria: { type: 'time_of_day', from_hour: 0, to_hour: 5, threshold: 10 },
    xp_bonus: 75,
  },
  {
    code: 'streak_7',
    name: 'Week Streak',
    description: 'Active seven days in a row.',
    criteria: { type: 'streak_days', threshold: 7 },
    xp_bonus: 100,
  },
  {
    code: 'trusted',
    name: 'Trusted',
    description: 'A trust score of 8 or more.',
    criteria: { type: 'trust_score', threshold: 8 },
    xp_bonus: 150,
  },
  {
    code: 'reviewer_100',
    name: 'Seasoned Reviewer',
    description: 'One hundred reviews that counted toward a verdict.',
    criteria: { type: 'reviews_done', threshold: 100 },
    xp_bonus: 200,
  },
  {
    code: 'earner',
    name: 'Earner',
    description: '100.00 earned in one currency.',
    criteria: { type: 'earnings_total', threshold: 10_000 },
    xp_bonus: 100,
  },
];

export const badgesMigrations: Record<string, Migration> = {
  '0020_badges': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table badges (
          id uuid primary key,
          code text not null unique check (code ~ '^[a-z0-9_]{2,40}$'),
          name text not null,
          description text not null default '',
          criteria jsonb not null,
          xp_bonus integer not null check (xp_bonus >= 0),
          money_bonus_amount bigint check (money_bonus_amount > 0),
          money_bonus_currency text,
          active boolean not null default true,
          created_at timestamptz not null,
          check ((money_bonus_amount is null) = (money_bonus_currency is null))
        )`.execute(db);
      await sql`create index badges_created on badges (created_at desc, id desc)`.execute(db);
      await sql`
        create table user_badges (
          user_id uuid not null,
          badge_id uuid not null references badges (id),
          unlocked_at timestamptz not null,
          primary key (user_id, badge_id)
        )`.execute(db);
      await sql`
        create table badge_counters (
          user_id uuid not null,
          metric text not null,
          scope text not null default '',
          value bigint not null default 0,
          primary key (user_id, metric, scope)
        )`.execute(db);
      await sql`
        create table badge_counted_causes (
          kind text not null,
          cause_id uuid not null,
          user_id uuid not null,
          primary key (kind, cause_id)
        )`.execute(db);
      await sql`create index badge_counted_causes_user on badge_counted_causes (user_id)`.execute(db);
      await sql`
        create table badge_receipts (
          submission_id uuid primary key,
          user_id uuid not null,
          local_hour integer not null check (local_hour between 0 and 23)
        )`.execute(db);
      await sql`create index badge_receipts_user on badge_receipts (user_id)`.execute(db);
    },
  },
  '0021_default_badges': {
    async up(db: Kysely<unknown>) {
      for (const badge of defaultBadges) {
        await sql`
          insert into badges (id, code, name, description, criteria, xp_bonus, active, created_at)
          values (${derivedId('default-badge', badge.code)}, ${badge.code}, ${badge.name}, ${badge.description},
            ${JSON.stringify(badge.criteria)}::jsonb, ${badge.xp_bonus}, true, now())
          on conflict (code) do nothing`.execute(db);
      }
    },
  },
};
