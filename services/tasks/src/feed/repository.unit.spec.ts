import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { TasksDB } from '../db/schema.ts';
import { defaultStanding } from '../eligibility/index.ts';
import { compilingDb, sqlSnapshot } from '../testing/sql.ts';
import { feedQuery, feedRows } from './repository.ts';

/** Compiles queries without a database. */
const db = compilingDb();
const now = new Date('2030-01-01T12:00:00.000Z');

const me = '0195a0e2-7b1c-7d2e-8f00-123456789abc';
const standing = {
  ...defaultStanding,
  level: 3,
  trust_score: 6.5,
  languages: ['es-MX', 'EN'],
  country: 'NG',
};

/** What migration 0006 puts in tasks_feed / tasks_feed_type: the walk must read nothing else. */
const covered = new Set([
  'id',
  'priority_score',
  'status',
  'task_type',
  'campaign_id',
  'difficulty',
  'reward_amount',
  'claim_hold_amount',
  'min_level',
  'min_trust_score',
  'slots_taken',
  'max_submissions',
  'deadline',
  'required_languages',
  'regions',
]);

function innerSql(sql: string): string {
  const start = sql.indexOf('from (select');
  const end = sql.lastIndexOf(') as "p"');
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  return sql.slice(start, end);
}

describe('feedQuery', () => {
  it('walks only columns the feed indexes cover, so the walk is an index-only scan', () => {
    const { sql } = feedQuery(db, {
      contributorId: me,
      now,
      standing,
      filters: { type: 'rlhf', difficulty: 'hard', minReward: 100, maxReward: 5000 },
      after: { score: 12.5, id: me },
      limit: 21,
    }).compile();
    const inner = innerSql(sql);
    const columns = new Set([...inner.matchAll(/"t"\."([a-z_]+)"|\bt\.([a-z_]+)/g)].map((m) => m[1] ?? m[2]));
    expect(columns.size).toBeGreaterThan(8);
    for (const column of columns) expect(covered, column).toContain(column);
  });

  it('orders by score then id, both descending, and keeps that order outside', () => {
    const { sql } = feedQuery(db, { contributorId: me, standing, limit: 5, now }).compile();
    expect(innerSql(sql)).toContain('order by "t"."priority_score" desc, "t"."id" desc limit $');
    expect(sql.trim().endsWith('order by "p"."priority_score" desc, "p"."id" desc')).toBe(true);
  });

  it("passes the caller's primary language subtags, lower case, once each", () => {
    const { parameters } = feedQuery(db, { contributorId: me, standing, limit: 5, now }).compile();
    expect(parameters).toContainEqual(['es', 'en']);
    expect(parameters).toContain('NG');
    expect(parameters).toContain('6.5');
  });

  it('turns reward bounds into score bounds the index can seek on (never tighter than exact)', () => {
    const { sql, parameters } = feedQuery(db, {
      contributorId: me,
      now,
      standing,
      filters: { minReward: 2500, maxReward: 3000 },
      limit: 5,
    }).compile();
    expect(sql).toContain('"t"."priority_score" >= $');
    expect(sql).toContain('"t"."priority_score" <= $');
    const numbers = parameters.filter((p): p is number => typeof p === 'number');
    expect(numbers.some((n) => n < 2.5 && n > 2.49)).toBe(true);
    expect(numbers.some((n) => n > 23 && n < 23.01)).toBe(true);
  });

  it('adds no filter it was not asked for', () => {
    const { sql } = feedQuery(db, { contributorId: me, standing, limit: 5, now }).compile();
    expect(sql).not.toContain('"t"."task_type" =');
    expect(sql).not.toContain('"t"."difficulty" =');
    expect(sql).not.toContain('reward_amount >=');
    expect(sql).not.toContain('(t.priority_score, t.id) <');
  });
});

describe('the feed query, checked in', () => {
  it('is the SQL in __snapshots__/feed.sql (a change to it shows in review)', async () => {
    const page = (
      filters: Parameters<typeof feedQuery>[1]['filters'],
      after = null as { score: number; id: string } | null,
    ) => feedQuery(db, { contributorId: me, standing, filters, after, limit: 21, now });
    await expect(
      sqlSnapshot({
        'the first page, unfiltered': page({}),
        'a later page, every filter': page(
          { type: 'rlhf', difficulty: 'hard', minReward: 100, maxReward: 5000 },
          { score: 12.5, id: me },
        ),
      }),
    ).toMatchFileSnapshot('__snapshots__/feed.sql');
  });
});

describe('feedRows', () => {
  it('answers a suspended or erased caller with nothing, without asking the database', async () => {
    const failing = new Kysely<TasksDB>({
      dialect: {
        createAdapter: () => new PostgresAdapter(),
        createDriver: () =>
          new (class extends DummyDriver {
            override acquireConnection(): never {
              throw new Error('must not connect');
            }
          })(),
        createIntrospector: (kysely) => new PostgresIntrospector(kysely),
        createQueryCompiler: () => new PostgresQueryCompiler(),
      },
    });
    for (const status of ['suspended', 'erased'] as const) {
      expect(
        await feedRows(failing, { contributorId: me, standing: { ...standing, status }, limit: 5, now }),
      ).toEqual([]);
    }
  });
});
