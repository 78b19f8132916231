import type { TaskDifficulty, TaskType } from '@tessera/contracts';
import { createDatabase } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { type ContributorStanding, primaryLanguage } from '../eligibility/index.ts';
import type { FeedPosition } from './cursor.ts';

type Db = Kysely<TasksDB>;

/**
 * The feed: the tasks a contributor may do now, best first (the seed's priority score, ties by id,
 * both descending). One SQL query walks the partial index `tasks_feed (priority_score desc, id
 * desc) where status = 'active'` (or `tasks_feed_type` when filtered by type) in order and stops
 * as soon as the page is full: nothing is sorted, and the only tasks read beyond the page are the
 * ones the caller may not do. Both indexes carry every column the rules read (migration 0004), so
 * the walk is an index-only scan; the page's rows are then read by primary key.
 *
 * A task is in the feed iff:
 * - it is active, not full (slots_taken < max_submissions), and its deadline (if any) is ahead;
 * - its campaign is active, started (start_at ≤ now), not ended (end_at > now), can still promise
 *   the task's reward (funded − spent − returned − reserved − owed ≥ reward) and has quota left
 *   (no target, or quota_taken < target_count);
 * - the campaign is public, or the caller is invited to it;
 * - the caller holds no assignment of it other than released or expired ones;
 * - eligibility/decide.ts says the caller may do it: level ≥ min_level, trust ≥ min_trust_score,
 *   no required languages or one the caller speaks (primary subtags, lower case), no regions or
 *   the caller's country among them. A suspended or erased account gets nothing.
 *
 * The campaign and assignment rules are correlated EXISTS / NOT EXISTS probes (campaigns by primary
 * key; assignments by `assignments_one_per_contributor`), run as sub-plans of the ordered scan only
 * for tasks that passed the column checks. Each ends in `offset 0`, which keeps the planner from
 * turning it into a join: as joins they cost more to plan than to run (planning p50 0.51 → 0.32 ms
 * per page in bench/feed.ts, execution unchanged; a probe costs about a microsecond a task).
 *
 * Cost: a page costs what it takes to find limit + 1 eligible tasks. For most contributors that is
 * a few dozen index entries; for one who may do almost nothing (level 1, trust near 0, a narrow
 * filter) it is up to every active task of the type, at about half a microsecond each
 * (bench/feed.ts measures both).
 */

export interface FeedFilters {
  type?: TaskType | undefined;
  difficulty?: TaskDifficulty | undefined;
  /** Inclusive bounds on the reward, in minor units. */
  minReward?: number | undefined;
  maxReward?: number | undefined;
}

export interface FeedPageQuery {
  contributorId: string;
  standing: ContributorStanding;
  filters?: FeedFilters;
  /** The position of the last task of the previous page. */
  after?: FeedPosition | null;
  /** How many rows to return at most (ask one more than the page to learn whether more follow). */
  limit: number;
  now: Date;
}

/** Slightly loose bounds on the score, so float rounding can never exclude a task the exact filter keeps. */
const EPSILON = 1e-6;

/** The tasks of one feed page, in feed order, for a caller whose standing is given. */
export async function feedRows(
  /** A pool from `openFeedDatabase`: other sessions may plan the query far worse. */
  db: Db,
  query: FeedPageQuery,
) {
  if (query.standing.status !== 'active' || query.limit <= 0) return [];
  return feedQuery(db, query).execute();
}

/**
 * How the feed's sessions plan. The planner cannot estimate how many tasks pass a caller's filters
 * (array overlaps, per-row EXISTS probes); when it guesses few, it reads and sorts every active
 * task instead (40 ms at 20k tasks, growing with the table). Without sorts, the only ordered plan
 * left is the walk of the feed index that stops at the page, whose worst case is that same full
 * read. JIT never pays off for a query this short. Set per session on a pool of its own
 * (`openFeedDatabase`), so a feed page costs one round trip instead of a transaction of four.
 * Planning costs about 0.3 ms a page, but a prepared statement is no cure: its generic plan, which
 * cannot see the caller's level, trust or filters, measured p50 91 ms against 1.8 ms (3,000 pages,
 * 100k tasks, force_generic_plan), and in the default mode Postgres keeps planning each one anyway.
 */
export const FEED_SESSION_SETTINGS = { enable_sort: 'off', jit: 'off' } as const;

/** The feed's own small pool, whose sessions plan as the feed needs (FEED_SESSION_SETTINGS). */
export function openFeedDatabase(url: string, max = 4): Db {
  return createDatabase<TasksDB>(url, { max, settings: FEED_SESSION_SETTINGS });
}

/**
 * The feed's SQL for an active caller (exported for EXPLAIN in the bench). The inner query picks
 * the page's ids by walking `tasks_feed` (or `tasks_feed_type` when filtered by type) in order;
 * it reads only columns those indexes cover, so it runs as an index-only scan. The outer query
 * then reads the page's rows by primary key, keeping the inner order.
 */
export function feedQuery(db: Db, query: FeedPageQuery) {
  const { standing, contributorId, filters = {}, after, limit, now } = query;
  const languages = [...new Set(standing.languages.map(primaryLanguage))];

  let page = db
    .selectFrom('tasks as t')
    .select(['t.id', 't.priority_score'])
    .where('t.status', '=', 'active')
    .where((eb) => eb('t.slots_taken', '<', eb.ref('t.max_submissions')))
    .where((eb) => eb.or([eb('t.deadline', 'is', null), eb('t.deadline', '>', now)]))
    // Eligibility (eligibility/decide.ts), column by column.
    .where('t.min_level', '<=', standing.level)
    .where(sql<boolean>`t.min_trust_score <= ${String(standing.trust_score)}::numeric`)
    .where(
      sql<boolean>`(t.required_languages = '{}' or exists (
        select from unnest(t.required_languages) as l(tag)
        where lower(split_part(l.tag, '-', 1)) = any(${languages}::text[])))`,
    )
    .where(sql<boolean>`(t.regions = '{}' or ${standing.country}::text = any(t.regions))`)
    // The campaign can take this claim now, and the caller may see it.
    .where(
      sql<boolean>`exists (
        select from campaigns c
        where c.id = t.campaign_id
          and c.status = 'active'
          and (c.start_at is null or c.start_at <= ${now})
          and (c.end_at is null or c.end_at > ${now})
          and c.funded_amount - c.spent_amount - c.returned_amount - c.reserved_amount - c.owed_amount
              >= t.claim_hold_amount
          and (c.target_count is null or c.quota_taken < c.target_count)
          and (not c.is_private or exists (
            select from campaign_invitations i where i.campaign_id = c.id and i.user_id = ${contributorId}::uuid))
        offset 0)`,
    )
    // Not already claimed, submitted, approved or rejected by the caller.
    .where(
      sql<boolean>`not exists (
        select from assignments a
        where a.task_id = t.id and a.contributor_id = ${contributorId}::uuid
          and a.status not in ('released', 'expired')
        offset 0)`,
    )
    .orderBy('t.priority_score', 'desc')
    .orderBy('t.id', 'desc')
    .limit(limit);

  if (filters.type) page = page.where('t.task_type', '=', filters.type);
  if (filters.difficulty) page = page.where('t.difficulty', '=', filters.difficulty);
  // The score is (priority 0|10) + (emptiness 0..10) + reward / 1000, so a reward bound is also a
  // bound on the score: an index condition on tasks_feed that skips what cannot match.
  if (filters.minReward !== undefined) {
    page = page
      .where(sql<boolean>`t.reward_amount >= ${filters.minReward}::bigint`)
      .where('t.priority_score', '>=', filters.minReward / 1000 - EPSILON);
  }
  if (filters.maxReward !== undefined) {
    page = page
      .where(sql<boolean>`t.reward_amount <= ${filters.maxReward}::bigint`)
      .where('t.priority_score', '<=', 20 + filters.maxReward / 1000 + EPSILON);
  }
  if (after) {
    page = page.where(sql<boolean>`(t.priority_score, t.id) < (${after.score}::float8, ${after.id}::uuid)`);
  }

  return db
    .selectFrom(page.as('p'))
    .innerJoin('tasks as t', 't.id', 'p.id')
    .select([
      't.id',
      't.campaign_id',
      't.title',
      't.description',
      't.task_type',
      't.input',
      't.difficulty',
      't.reward_amount',
      't.currency',
      't.xp_reward',
      't.time_estimate',
      't.min_trust_score',
      't.min_level',
      't.required_languages',
      't.regions',
      't.is_priority',
      't.claim_ttl_seconds',
      't.deadline',
      't.status',
      't.slots_taken',
      't.max_submissions',
      't.created_at',
      'p.priority_score',
    ])
    .orderBy('p.priority_score', 'desc')
    .orderBy('p.id', 'desc');
}

export type FeedRow = Awaited<ReturnType<typeof feedRows>>[number];
