/**
 * Benchmark of the contributor feed on a realistic data set, side by side with the seed's
 * `get_user_task_feed` SQL function on the same data:
 * (a) the feed query alone (feed/handle.ts `contributorFeed`: the standing lookup + one page);
 * (b) `GET /api/v1/tasks` through the service's HTTP app (`app.inject`, real EdDSA tokens verified
 *     by the kit's verifier);
 * (c) the seed's function, created verbatim (table names adapted), on seed-shaped tables holding
 *     the same tasks and users.
 *
 *   pnpm bench:tasks          (TASKS=100000 USERS=10000 RUNS=2000 SEED_RUNS=500 EXPLAIN=1 KEEP_DB=0)
 *
 * Each measurement also prints the node process's CPU per run (process.cpuUsage: the bench's own
 * work included); PROFILE='(b)' (or any label) writes that measurement's CPU profile to
 * /tmp/feed-bench.cpuprofile.
 *
 * Postgres comes from DATABASE_URL, else the embedded binaries; the bench creates its own database
 * and runs the service's migrations on it. Data is seeded in SQL from a fixed random seed.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { resolvePostgres } from '@tessera/devstack';
import {
  createDatabase,
  createHttpApp,
  createLogger,
  createTokenVerifier,
  migrateToLatest,
  systemClock,
} from '@tessera/service-kit';
import { createTestIssuer, percentile } from '@tessera/service-kit/testing';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { tasksConfigSchema } from '../src/config.ts';
import { tasksMigrations } from '../src/db/migrations.ts';
import type { TasksDB } from '../src/db/schema.ts';
import { standingOf } from '../src/eligibility/index.ts';
import {
  contributorFeed,
  decodeFeedCursor,
  type FeedFilters,
  type FeedPosition,
  feedQuery,
  openFeedDatabase,
} from '../src/feed/index.ts';
import { registerRoutes } from '../src/routes.ts';
import { feedQueryString, prng, randomFilters, seedFeedData } from './seed.ts';

const TASKS = Number(process.env.TASKS ?? 100_000);
const USERS = Number(process.env.USERS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 2_000);
/** The seed's function reads every task on every call; fewer runs keep the bench short. */
const SEED_RUNS = Math.min(RUNS, Number(process.env.SEED_RUNS ?? 500));
const CAMPAIGNS = Math.max(10, Math.round(TASKS / 200));
const ASSIGNMENTS = Math.round(USERS * 5);
const EXPLAIN = process.env.EXPLAIN !== '0';

const started = performance.now();
const postgres = await resolvePostgres({ containers: false });
const url = new URL(postgres.url);
url.pathname = `/tasks_bench_${Date.now()}`;
const admin = new pg.Client({ connectionString: postgres.url });
await admin.connect();
await admin.query(`create database "${url.pathname.slice(1)}"`);
const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]
  ?.server_version;
await admin.end();

const db = createDatabase<TasksDB>(url.toString(), { max: 4 });
const feedDb = openFeedDatabase(url.toString());
await migrateToLatest(db as Kysely<unknown>, tasksMigrations);

// ---- data ---------------------------------------------------------------------------------------

const log = (line: string) => process.stdout.write(`${line}\n`);
log(
  `seeding ${TASKS} active tasks over ${CAMPAIGNS} campaigns, ${USERS} contributors, ~${ASSIGNMENTS} assignments`,
);

await seedFeedData(db, { tasks: TASKS, users: USERS });

const counts = (
  await sql<{ tasks: number; active: number; feedable: number; users: number; assignments: number }>`
    select (select count(*)::int from tasks) tasks,
      (select count(*)::int from tasks where status = 'active') active,
      (select count(*)::int from tasks where status = 'active' and slots_taken < max_submissions
        and (deadline is null or deadline > now())) feedable,
      (select count(*)::int from contributors) users,
      (select count(*)::int from assignments) assignments`.execute(db)
).rows[0]!;
log(
  `seeded in ${((performance.now() - started) / 1000).toFixed(1)} s: ${counts.tasks} tasks (${counts.active} active, ` +
    `${counts.feedable} open), ${counts.users} contributors, ${counts.assignments} assignments`,
);

// ---- the seed's function, on seed-shaped tables filled with the same data -------------------

await sql`
  create table seed_users (
    id uuid primary key,
    level integer default 1,
    trust_score decimal(3,1) default 5.0
  );
  create table seed_tasks (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    created_by UUID,
    title VARCHAR(255) NOT NULL,
    description TEXT NOT NULL,
    task_type VARCHAR(50) NOT NULL,
    difficulty VARCHAR(20) DEFAULT 'medium',
    reward DECIMAL(6,2) NOT NULL,
    xp_reward INTEGER DEFAULT 10,
    time_estimate VARCHAR(50),
    max_submissions INTEGER DEFAULT 1000,
    current_submissions INTEGER DEFAULT 0,
    min_trust_score DECIMAL(3,1) DEFAULT 5.0,
    min_level INTEGER DEFAULT 1,
    required_languages TEXT[],
    is_priority BOOLEAN DEFAULT false,
    status VARCHAR(20) DEFAULT 'active',
    deadline TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    CONSTRAINT valid_task_type CHECK (task_type IN ('audio', 'image', 'text', 'validation', 'linguasense', 'rlhf')),
    CONSTRAINT valid_difficulty CHECK (difficulty IN ('easy', 'medium', 'hard')),
    CONSTRAINT valid_status CHECK (status IN ('active', 'paused', 'completed', 'archived')),
    CONSTRAINT positive_reward CHECK (reward > 0)
  );
  CREATE INDEX idx_tasks_type ON seed_tasks(task_type);
  CREATE INDEX idx_tasks_status ON seed_tasks(status);
  CREATE INDEX idx_tasks_priority ON seed_tasks(is_priority);
  CREATE INDEX idx_tasks_created_by ON seed_tasks(created_by);
  insert into seed_users (id, level, trust_score) select user_id, level, trust_score from contributors;
  insert into seed_tasks (id, created_by, title, description, task_type, difficulty, reward, xp_reward,
    time_estimate, max_submissions, current_submissions, min_trust_score, min_level, required_languages,
    is_priority, status, deadline, created_at)
  select id, created_by, title, description, task_type, difficulty, reward_amount / 100.0, xp_reward,
    time_estimate, max_submissions, slots_taken, min_trust_score, min_level, required_languages,
    is_priority, status, deadline, created_at
  from tasks;
  analyze seed_users;
  analyze seed_tasks;
  CREATE OR REPLACE FUNCTION get_user_task_feed(
    p_user_id UUID,
    p_limit INTEGER DEFAULT 20
  )
  RETURNS TABLE (
    task_id UUID,
    title VARCHAR,
    reward DECIMAL,
    priority_score DECIMAL
  )
  AS $$
  BEGIN
    RETURN QUERY
    SELECT
      t.id,
      t.title,
      t.reward,
      (
        CASE WHEN t.is_priority THEN 10 ELSE 0 END +
        (10 - (t.current_submissions::DECIMAL / NULLIF(t.max_submissions, 0) * 10)) +
        (t.reward / 10)
      ) AS priority_score
    FROM seed_tasks t
    INNER JOIN seed_users u ON u.id = p_user_id
    WHERE t.status = 'active'
      AND t.current_submissions < t.max_submissions
      AND u.trust_score >= t.min_trust_score
      AND u.level >= t.min_level
      AND (t.deadline IS NULL OR t.deadline > now())
    ORDER BY priority_score DESC
    LIMIT p_limit;
  END;
  $$ LANGUAGE plpgsql;`.execute(db);

// ---- workload -----------------------------------------------------------------------------------

const users = (
  await sql<{ user_id: string }>`select user_id from contributors order by user_id`.execute(db)
).rows.map((row) => row.user_id);
const random = prng(42);
const workload = Array.from({ length: RUNS }, () => ({
  user: users[Math.floor(random() * users.length)]!,
  filters: randomFilters(random),
}));
const query = feedQueryString;

interface Figures {
  runs: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  rows: number;
}

async function startProfile(): Promise<() => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile('/tmp/feed-bench.cpuprofile', JSON.stringify(profile));
    session.disconnect();
  };
}

async function measure(label: string, op: (i: number) => Promise<number>, runs = RUNS): Promise<Figures> {
  // Warm up on a tenth of the workload (caches), then measure every run one at a time.
  for (let i = 0; i < Math.min(200, Math.ceil(runs / 10)); i++) await op(i);
  const latencies: number[] = [];
  let rows = 0;
  const cpu0 = process.cpuUsage();
  const profiling = process.env.PROFILE === label ? await startProfile() : undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    rows += await op(i);
    latencies.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  if (profiling) await profiling();
  log(`  ${label}: node CPU ${((cpu.user + cpu.system) / runs).toFixed(0)} µs a run`);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  const figures = {
    runs: latencies.length,
    p50: pct(0.5),
    p95: pct(0.95),
    p99: pct(0.99),
    max: latencies[latencies.length - 1] ?? 0,
    mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    rows: rows / latencies.length,
  };
  log(
    `  ${label}: p50 ${figures.p50.toFixed(2)} ms, p99 ${figures.p99.toFixed(2)} ms, max ${figures.max.toFixed(2)} ms`,
  );
  return figures;
}

const results: [string, Figures][] = [];

log('measuring (a) the feed query');
results.push([
  '(a) feed query (random filters)',
  await measure('(a)', async (i) => {
    const { user, filters } = workload[i]!;
    return (await contributorFeed(feedDb, { contributorId: user, filters, limit: 20, now: systemClock() }))
      .rows.length;
  }),
]);
results.push([
  '(a) feed query, no filters',
  await measure('(a) no filters', async (i) => {
    const { user } = workload[i]!;
    return (await contributorFeed(feedDb, { contributorId: user, limit: 20, now: systemClock() })).rows
      .length;
  }),
]);
// The second page of the same questions: the cursor from the first, then the page after it.
const cursors: (FeedPosition | null)[] = [];
for (const { user, filters } of workload) {
  const { next } = await contributorFeed(feedDb, {
    contributorId: user,
    filters,
    limit: 20,
    now: systemClock(),
  });
  cursors.push(next ? decodeFeedCursor(next) : null);
}
results.push([
  '(a) feed query, page 2',
  await measure('(a) page 2', async (i) => {
    const { user, filters } = workload[i]!;
    return (
      await contributorFeed(feedDb, {
        contributorId: user,
        filters,
        after: cursors[i] ?? null,
        limit: 20,
        now: systemClock(),
      })
    ).rows.length;
  }),
]);

log('measuring (b) GET /api/v1/tasks through the app');
const issuer = await createTestIssuer();
const app = await createHttpApp({
  name: 'tasks',
  logger: createLogger({ name: 'tasks', level: 'silent', pretty: false }),
  tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
  rateLimitMax: false,
});
const config = tasksConfigSchema.parse({
  SERVICE_NAME: 'tasks',
  NODE_ENV: 'test',
  PORT: 0,
  DATABASE_URL: url.toString(),
  NATS_URL: 'nats://127.0.0.1:4222',
});
registerRoutes(app, { db, config, clock: systemClock, feedDb });
await app.ready();
const tokens = await Promise.all(
  workload.map(({ user }) => issuer.token({ sub: user, role: 'contributor' })),
);
results.push([
  '(b) GET /api/v1/tasks (inject)',
  await measure('(b)', async (i) => {
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/tasks${query(workload[i]!.filters)}`,
      headers: { authorization: `Bearer ${tokens[i]!}` },
    });
    if (response.statusCode !== 200)
      throw new Error(`GET /api/v1/tasks: ${response.statusCode} ${response.body}`);
    return response.json<{ tasks: unknown[] }>().tasks.length;
  }),
]);

log("measuring (c) the seed's get_user_task_feed");
results.push([
  "(c) seed's get_user_task_feed",
  await measure(
    '(c)',
    async (i) => {
      const { rows } = await sql`select * from get_user_task_feed(${workload[i]!.user}::uuid, 20)`.execute(
        db,
      );
      return rows.length;
    },
    SEED_RUNS,
  ),
]);

// What the server does per query, from EXPLAIN ANALYZE of a sample of the same workload: the plan,
// how long planning and execution take, and how many tasks the walk skipped to fill the page.
const SAMPLE = Math.min(RUNS, 300);
interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Rows Removed by Filter'?: number;
  'Heap Fetches'?: number;
  Plans?: PlanNode[];
}
async function serverSide() {
  const planning: number[] = [];
  const execution: number[] = [];
  const skipped: number[] = [];
  const heapFetches: number[] = [];
  const scans = new Map<string, number>();
  for (const { user, filters } of workload.slice(0, SAMPLE)) {
    const standing = await standingOf(db, user);
    if (standing.status !== 'active') continue;
    const compiled = feedQuery(db, {
      contributorId: user,
      standing,
      filters,
      limit: 21,
      now: systemClock(),
    }).compile();
    const { rows } = await feedDb.executeQuery<{
      'QUERY PLAN': [{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }];
    }>({
      ...compiled,
      sql: `explain (analyze, format json) ${compiled.sql}`,
    });
    const plan = rows[0]!['QUERY PLAN'][0];
    planning.push(plan['Planning Time']);
    execution.push(plan['Execution Time']);
    const visit = (node: PlanNode) => {
      if (node['Index Name']?.startsWith('tasks_feed')) {
        const scan = `${node['Node Type']} using ${node['Index Name']}`;
        scans.set(scan, (scans.get(scan) ?? 0) + 1);
        skipped.push(node['Rows Removed by Filter'] ?? 0);
        heapFetches.push(node['Heap Fetches'] ?? 0);
      }
      for (const child of node.Plans ?? []) visit(child);
    };
    visit(plan.Plan);
  }
  const pct = (values: number[], p: number) =>
    percentile(
      [...values].sort((a, b) => a - b),
      p,
    );
  const line = (label: string, values: number[], digits: number) =>
    `  ${label.padEnd(30)} p50 ${pct(values, 0.5).toFixed(digits)}  p95 ${pct(values, 0.95).toFixed(digits)}  ` +
    `p99 ${pct(values, 0.99).toFixed(digits)}  max ${pct(values, 1).toFixed(digits)}`;
  return [
    `server side, EXPLAIN ANALYZE of ${planning.length} of the same queries:`,
    line('planning, ms', planning, 2),
    line('execution, ms', execution, 2),
    line('tasks skipped by the walk', skipped, 0),
    line('heap fetches in the walk', heapFetches, 0),
    ...[...scans.entries()].map(([scan, n]) => `  ${scan}: ${n} queries`),
  ];
}
const steady = await serverSide();

// Claims all day: a fifth of the active tasks take a slot (their rows and index entries are
// rewritten, and their heap pages are no longer all-visible) before autovacuum comes by.
await sql`
  update tasks set slots_taken = slots_taken + 1
  where status = 'active' and slots_taken < max_submissions - 1 and random() < 0.2`.execute(db);
log('measuring (a) again after claims touched a fifth of the tasks, before any vacuum');
results.push([
  '(a) after 20% churn, no vacuum',
  await measure('(a) churn', async (i) => {
    const { user, filters } = workload[i]!;
    return (await contributorFeed(feedDb, { contributorId: user, filters, limit: 20, now: systemClock() }))
      .rows.length;
  }),
]);
const churned = await serverSide();

// ---- report -------------------------------------------------------------------------------------

const ms = (value: number) => value.toFixed(2).padStart(8);
log('');
log(
  `Feed latency, ms (${RUNS} runs each, ${SEED_RUNS} for (c); one at a time, page size 20; ` +
    `Postgres ${version ?? '?'} via ${postgres.source}; load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')})`,
);
log(
  `${'what'.padEnd(34)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}${'mean'.padStart(8)}  rows/page`,
);
for (const [label, f] of results) {
  log(
    `${label.padEnd(34)}${ms(f.p50)}${ms(f.p95)}${ms(f.p99)}${ms(f.max)}${ms(f.mean)}  ${f.rows.toFixed(1)}`,
  );
}
log(
  '\n(c) applies only status, fullness, deadline, level and trust (no campaign, budget, quota, privacy,\n' +
    'language, region or own-assignment rules) and sorts every matching row to rank them.',
);
log('');
for (const line of steady) log(line);
log('after the churn:');
for (const line of churned) log(line);

if (EXPLAIN) {
  const explain = async (label: string, user: string, filters: FeedFilters) => {
    const standing = await standingOf(db, user);
    const compiled = feedQuery(db, {
      contributorId: user,
      standing,
      filters,
      limit: 21,
      now: systemClock(),
    }).compile();
    const plan = await feedDb.executeQuery<{ 'QUERY PLAN': string }>({
      ...compiled,
      sql: `explain (analyze, buffers, costs off, summary on) ${compiled.sql}`,
    });
    log(`\nEXPLAIN ANALYZE (after the churn) — ${label} (filters ${JSON.stringify(filters)})`);
    for (const row of plan.rows) log(`  ${row['QUERY PLAN']}`);
  };
  const weakest = (
    await sql<{ user_id: string }>`
      select user_id from contributors where status = 'active' order by level, trust_score, user_id limit 1`.execute(
      db,
    )
  ).rows[0]!.user_id;
  await explain('a typical contributor, no filters', workload[0]!.user, {});
  await explain('the least qualified contributor, type + difficulty', weakest, {
    type: 'rlhf',
    difficulty: 'hard',
  });
  const seedPlan = await sql<{ 'QUERY PLAN': string }>`
    explain (analyze, costs off, summary on)
    SELECT t.id FROM seed_tasks t INNER JOIN seed_users u ON u.id = ${workload[0]!.user}::uuid
    WHERE t.status = 'active' AND t.current_submissions < t.max_submissions
      AND u.trust_score >= t.min_trust_score AND u.level >= t.min_level
      AND (t.deadline IS NULL OR t.deadline > now())
    ORDER BY (CASE WHEN t.is_priority THEN 10 ELSE 0 END +
      (10 - (t.current_submissions::DECIMAL / NULLIF(t.max_submissions, 0) * 10)) + (t.reward / 10)) DESC
    LIMIT 20`.execute(db);
  log("\nEXPLAIN ANALYZE — the seed function's query");
  for (const row of seedPlan.rows) log(`  ${row['QUERY PLAN']}`);
}

log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
await app.close();
log(`database ${url.pathname.slice(1)}${process.env.KEEP_DB === '1' ? ' kept' : ''}`);
await feedDb.destroy();
await db.destroy();
if (postgres.source === 'env' && process.env.KEEP_DB !== '1') {
  const cleanup = new pg.Client({ connectionString: postgres.url });
  await cleanup.connect();
  await cleanup.query(`drop database if exists "${url.pathname.slice(1)}" with (force)`);
  await cleanup.end();
}
await postgres.stop();
