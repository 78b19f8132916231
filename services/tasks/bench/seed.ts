/**
 * A realistic feed data set seeded in SQL straight into the tasks service's tables, from a fixed
 * random seed: campaigns, active tasks (plus 10% the feed must skip), contributors (the read model
 * eligibility reads), private-campaign invitations and assignments. Shared by `pnpm bench:tasks`
 * (bench/feed.ts, on a database of its own) and `npm run load` (infra/load, on a running platform's
 * tasks database, beside real data: everything seeded is marked by `label` and can be removed).
 *
 * Seeding 100k tasks through the API would take hours; in SQL it takes seconds. What is seeded is
 * what the feed and eligibility read, in the shapes the service writes: the rows are never announced
 * on the bus, so no other service knows these tasks (they serve the feed, not claims).
 */
import type { TaskDifficulty, TaskType } from '@tessera/contracts';
import { createDatabase } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { TasksDB } from '../src/db/schema.ts';
import type { FeedFilters } from '../src/feed/index.ts';

/** The tasks database at `url`, for seeding from outside the service (a small pool). */
export function openTasksDatabase(url: string): Kysely<TasksDB> {
  return createDatabase<TasksDB>(url, { max: 2 });
}

/** Active tasks and contributors in the tasks database (what the feed walks and reads). */
export async function feedDataCounts(db: Kysely<TasksDB>): Promise<{ tasks: number; contributors: number }> {
  const { rows } = await sql<{ tasks: number; contributors: number }>`
    select (select count(*)::int from tasks where status = 'active') tasks,
           (select count(*)::int from contributors) contributors`.execute(db);
  return rows[0]!;
}

export interface FeedSeedOptions {
  /** Active tasks; another 10% paused, archived or completed ones are added. */
  tasks: number;
  /** Contributors in the eligibility read model. */
  users: number;
  /** Marks the seeded campaigns (their description), so that `removeFeedData` finds them. */
  label?: string;
  /** Postgres' random seed (setseed), between -1 and 1. */
  seed?: number;
}

export interface FeedSeed {
  label: string;
  campaigns: number;
  /** The seeded contributors' ids. */
  userIds: string[];
}

/**
 * ~5% private campaigns, 2% with their quota used, 2% with a budget below most rewards, 1% not
 * started, 2.5% paused; the rest active and funded. Tasks of every type, difficulty, reward,
 * language and region mix; contributors of every level, trust and language; five assignments per
 * contributor in every status. Ends with `vacuum analyze` of the tables (the steady state a live
 * system reaches). Only the seeded campaigns, tasks and contributors are touched.
 */
export async function seedFeedData(db: Kysely<TasksDB>, options: FeedSeedOptions): Promise<FeedSeed> {
  const { tasks, users } = options;
  const label = options.label ?? 'bench';
  const campaigns = Math.max(10, Math.round(tasks / 200));
  const assignments = Math.round(users * 5);

  await sql`select setseed(${options.seed ?? 0.4242})`.execute(db);
  await sql`
    insert into campaigns (id, company_id, name, description, currency, budget_amount, funded_amount,
      target_count, quota_taken, start_at, end_at, is_private, status, created_by)
    select gen_random_uuid(), gen_random_uuid(), 'Bench campaign ' || g, ${label}, 'USD',
      100000000, case when g % 50 = 11 then 1000 else 100000000 end,
      case when g % 50 = 7 then 100 end, case when g % 50 = 7 then 100 else 0 end,
      case when g % 100 = 3 then now() + interval '1 day' else now() - interval '1 day' end,
      now() + interval '30 days',
      g % 20 = 0,
      case when g % 40 = 5 then 'paused' else 'active' end,
      gen_random_uuid()
    from generate_series(1, ${campaigns}) g`.execute(db);

  const langs = sql`array['en','es','fr','de','pt','hi','sw','yo','zh','ar']`;
  const countries = sql`array['NG','KE','IN','BR','US','GB','DE','FR','MX','PH','ID','EG','ZA','GH','PK']`;
  const pick = (list: ReturnType<typeof sql>, n: number) =>
    sql`(${list})[1 + floor(random() * ${sql.lit(n)})::int]`;

  // `tasks` active tasks plus 10% paused/archived/completed ones the feed must skip.
  await sql`
    with c as (
      select array_agg(id order by id) ids, array_agg(company_id order by id) cos
      from campaigns where description = ${label})
    insert into tasks (id, campaign_id, company_id, title, description, task_type, input, difficulty,
      reward_amount, currency, xp_reward, time_estimate, max_submissions, judges_required, min_trust_score,
      min_level, required_languages, regions, is_priority, claim_ttl_seconds, deadline, status,
      slots_taken, created_by, created_at)
    select gen_random_uuid(), c.ids[x.k], c.cos[x.k], 'Bench task ' || x.g,
      'Describe what you see in the picture, in two or three short sentences, in plain words.',
      (array['audio','image','text','validation','linguasense','rlhf'])[1 + floor(random() * 6)::int],
      '{"prompt":"Say hello","language":"en","min_chars":1,"max_chars":500}'::jsonb,
      (array['easy','medium','hard'])[1 + floor(random() * 3)::int],
      x.reward, 'USD', 10, '5-10 minutes', x.max, 3,
      round((random() * 8)::numeric, 1),
      1 + floor(random() * 5)::int,
      case when random() < 0.2 then
        case when random() < 0.5 then array[${pick(langs, 10)}] else array[${pick(langs, 10)}, ${pick(langs, 10)}] end
        else '{}' end,
      case when random() < 0.1 then
        array[${pick(countries, 15)}, ${pick(countries, 15)}, ${pick(countries, 15)}] else '{}' end,
      random() < 0.1,
      3600,
      case when x.d < 0.03 then now() - interval '1 hour' when x.d < 0.3 then now() + interval '10 days' end,
      case when x.g <= ${tasks} then 'active' else (array['paused','archived','completed'])[1 + floor(random() * 3)::int] end,
      case when random() < 0.03 then x.max else floor(random() * x.max)::int end,
      gen_random_uuid(),
      now() - random() * interval '30 days'
    from c, lateral (
      select g, 1 + floor(random() * cardinality(c.ids))::int k,
        (10 + floor(power(random(), 3) * 5000))::bigint reward,
        (array[5, 10, 50, 100, 1000])[1 + floor(random() * 5)::int] max,
        random() d
      from generate_series(1, ${Math.round(tasks * 1.1)}) g
    ) x`.execute(db);

  const inserted = await sql<{ user_id: string }>`
    insert into contributors (user_id, role, status, country, languages, level, trust_score)
    select gen_random_uuid(), 'contributor',
      case when random() < 0.01 then 'suspended' else 'active' end,
      case when random() < 0.95 then ${pick(countries, 15)} end,
      case floor(random() * 4)::int
        when 0 then array[${pick(langs, 10)}]
        when 1 then array['en', ${pick(langs, 10)}]
        when 2 then array['es-MX', ${pick(langs, 10)}, ${pick(langs, 10)}]
        else '{}' end,
      1 + floor(power(random(), 1.5) * 10)::int,
      round((random() * 10)::numeric, 1)
    from generate_series(1, ${users})
    returning user_id`.execute(db);
  const userIds = inserted.rows.map((row) => row.user_id).sort();

  // Private campaigns invite ~3% of the seeded contributors each.
  await sql`
    insert into campaign_invitations (campaign_id, user_id, invited_by)
    select c.id, u.user_id, c.created_by from campaigns c
    join contributors u on random() < 0.03 and u.user_id = any(${userIds}::uuid[])
    where c.is_private and c.description = ${label}`.execute(db);

  await sql`
    with ids as (
      select (select array_agg(t.id) from tasks t join campaigns c on c.id = t.campaign_id
                where t.status = 'active' and c.description = ${label}) t,
             ${userIds}::uuid[] u)
    insert into assignments (id, task_id, campaign_id, contributor_id, status, reward_amount, currency,
      xp_reward, claimed_at, expires_at)
    select gen_random_uuid(), tk.id, tk.campaign_id, x.user_id, x.status, tk.reward_amount, 'USD', 10,
      now() - interval '1 hour', now() + interval '1 hour'
    from (
      select ids.t[1 + floor(random() * cardinality(ids.t))::int] task_id,
        ids.u[1 + floor(random() * cardinality(ids.u))::int] user_id,
        (array['active','active','active','submitted','submitted','approved','approved','approved','rejected','released','expired'])
          [1 + floor(random() * 11)::int] status
      from ids, generate_series(1, ${assignments})
    ) x join tasks tk on tk.id = x.task_id
    on conflict do nothing`.execute(db);

  // Autovacuum's analyze of the fresh tables may hold back the first vacuum's horizon; the second one
  // leaves the steady state a live system reaches (pages all-visible, statistics current).
  await sql`vacuum analyze campaigns, tasks, contributors, campaign_invitations, assignments`.execute(db);
  await sql`vacuum campaigns, tasks, contributors, campaign_invitations, assignments`.execute(db);
  return { label, campaigns, userIds };
}

/** Removes what `seedFeedData` seeded under `seed.label` (a running platform keeps no trace of it). */
export async function removeFeedData(db: Kysely<TasksDB>, seed: FeedSeed): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // The rows go children first, so no foreign key can break; their checks are skipped (as a
    // superuser may) because assignments.campaign_id has no index: each deleted campaign would scan
    // every assignment, minutes for 500 campaigns.
    await sql`set local session_replication_role = replica`.execute(trx);
    const campaigns = sql`(select id from campaigns where description = ${seed.label})`;
    await sql`delete from assignments where campaign_id in ${campaigns}`.execute(trx);
    await sql`delete from campaign_invitations where campaign_id in ${campaigns}`.execute(trx);
    await sql`delete from tasks where campaign_id in ${campaigns}`.execute(trx);
    await sql`delete from campaigns where description = ${seed.label}`.execute(trx);
    await sql`delete from contributors where user_id = any(${seed.userIds}::uuid[])`.execute(trx);
  });
}

const types: TaskType[] = ['audio', 'image', 'text', 'validation', 'linguasense', 'rlhf'];
const difficulties: TaskDifficulty[] = ['easy', 'medium', 'hard'];

/** A small deterministic PRNG (mulberry32), so that every run asks the same questions. */
export function prng(seed = 42): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Filters as people use them: mostly none or one, sometimes two or three at once. */
export function randomFilters(random: () => number): FeedFilters {
  const oneOf = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const r = random();
  if (r < 0.4) return {};
  if (r < 0.55) return { type: oneOf(types) };
  if (r < 0.65) return { difficulty: oneOf(difficulties) };
  if (r < 0.75) return { minReward: oneOf([200, 500, 1000, 2000, 3000]) };
  if (r < 0.85) return { maxReward: oneOf([20, 50, 100, 300, 1000]) };
  if (r < 0.95) return { type: oneOf(types), difficulty: oneOf(difficulties) };
  return { type: oneOf(types), minReward: 100, maxReward: oneOf([500, 2000]) };
}

/** The query string of `GET /api/v1/tasks` for these filters ('' or '?…'). */
export function feedQueryString(filters: FeedFilters): string {
  const params = new URLSearchParams();
  if (filters.type) params.set('type', filters.type);
  if (filters.difficulty) params.set('difficulty', filters.difficulty);
  if (filters.minReward !== undefined) params.set('min_reward', String(filters.minReward));
  if (filters.maxReward !== undefined) params.set('max_reward', String(filters.maxReward));
  const text = params.toString();
  return text ? `?${text}` : '';
}
