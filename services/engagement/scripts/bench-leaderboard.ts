/**
 * Benchmark of the leaderboards at scale: 100k contributors and 1M XP entries spread over ~6
 * months, then p50/p99 of each board's top 100 and of "my rank" (with the entries around me),
 * over random users, for every period and metric.
 *
 *   pnpm --filter @tessera/engagement bench
 *   BENCH_USERS=10000 BENCH_EVENTS=100000 pnpm --filter @tessera/engagement bench   (a quick run)
 *   (BENCH_SAMPLES=200 EXPLAIN=1 KEEP_DB=0)
 *
 * Postgres comes from DATABASE_URL, else the embedded binaries; the bench creates its own database
 * and runs engagement's migrations on it. XP entries are bulk-inserted with generate_series into
 * `xp_entries`, so the leaderboard triggers maintain the weekly and monthly totals exactly as they
 * do in service; standings (all-time XP) are then written from the entries' sums, through the
 * standings trigger. Approvals are counted into the `approved` boards by the same upsert the
 * handler does, in bulk.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { resolvePostgres } from '@tessera/devstack';
import { createDatabase, migrateToLatest } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { engagementMigrations } from '../src/db/migrations.ts';
import type { EngagementDB } from '../src/db/schema.ts';
import { leaderboard } from '../src/leaderboards/handle.ts';
import { type Board, countBetween, valueOf } from '../src/leaderboards/repository.ts';
import { type Metric, metrics, type Period, periods, periodStart } from '../src/leaderboards/periods.ts';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const EXPLAIN = process.env.EXPLAIN !== '0';
const DAYS = 182;

const log = (line: string) => process.stdout.write(`${line}\n`);
const started = performance.now();
const postgres = await resolvePostgres({ containers: false });
const url = new URL(postgres.url);
url.pathname = `/engagement_bench_${Date.now()}`;
const admin = new pg.Client({ connectionString: postgres.url });
await admin.connect();
await admin.query(`create database "${url.pathname.slice(1)}"`);
const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]
  ?.server_version;
await admin.end();

const db = createDatabase<EngagementDB>(url.toString(), { max: 4 });
await migrateToLatest(db as Kysely<unknown>, engagementMigrations);
const now = new Date();

// ---- data ---------------------------------------------------------------------------------------

async function step(what: string, run: () => Promise<unknown>) {
  const t0 = performance.now();
  await run();
  log(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

log(`Postgres ${version}; seeding ${USERS} users, ${EVENTS} XP entries over ${DAYS} days`);
await sql`select setseed(0.4242)`.execute(db);
await step('users (98% active contributors, 1% companies, 1% suspended)', () =>
  sql`
    insert into users (user_id, role, status, registered_at)
    select gen_random_uuid(),
           case when g % 100 = 0 then 'company' else 'contributor' end,
           case when g % 100 = 1 then 'suspended' else 'active' end,
           ${now}::timestamptz - interval '200 days'
    from generate_series(1, ${USERS}) g`.execute(db),
);
// A dense index for picking users at random; an activity skew: a few users earn most of the XP.
await sql`create temporary table bench_users as
  select row_number() over (order by user_id) as n, user_id from users`.execute(db);
await sql`create index on bench_users (n)`.execute(db);
await step('xp_entries (the triggers fill the weekly and monthly totals)', () =>
  sql`
    insert into xp_entries (user_id, source, source_id, amount, at)
    select u.user_id, 'submission', 'bench-' || e.g, e.amount, e.at
    from (
      select g, 1 + floor(power(random(), 1.6) * ${USERS})::bigint as n, 1 + floor(random() * 40)::int as amount,
             ${now}::timestamptz - random() * interval '${sql.raw(String(DAYS))} days' as at
      from generate_series(1, ${EVENTS}) g
    ) e
    join bench_users u on u.n = least(e.n, ${USERS})`.execute(db),
);
await step('standings (the trigger fills the all-time totals)', () =>
  sql`
    insert into standings (user_id, xp, level, updated_at)
    select user_id, sum(amount), 1 + floor(power(sum(amount) / 100.0, 2.0 / 3))::int, max(at)
    from xp_entries group by user_id`.execute(db),
);
await step('approved boards (one approval per submission XP entry, as the handler counts them)', async () => {
  for (const period of periods) {
    const start =
      period === 'weekly'
        ? sql`date_trunc('week', at at time zone 'UTC')::date`
        : period === 'monthly'
          ? sql`date_trunc('month', at at time zone 'UTC')::date`
          : sql`date '1970-01-01'`;
    await sql`
      insert into leaderboard_totals (period, period_start, metric, user_id, value, listed)
      select ${period}, ${start}, 'approved', user_id, count(*), leaderboard_listed(user_id)
      from xp_entries where source = 'submission' group by 2, user_id`.execute(db);
  }
});
await step('vacuum analyze', () => sql`vacuum analyze`.execute(db));

// The current week and month have only begun: the boards are read as of the last instant of the
// last full week and month (the clock the service would have had then), all time as of now.
const asOf: Record<Period, Date> = {
  weekly: new Date(Date.parse(periodStart('weekly', now)) - 1),
  monthly: new Date(Date.parse(periodStart('monthly', now)) - 1),
  all_time: now,
};
log('listed users on the boards measured:');
for (const period of periods) {
  for (const metric of metrics) {
    const board: Board = { period, periodStart: periodStart(period, asOf[period]), metric };
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from leaderboard_totals
      where period = ${period} and period_start = ${board.periodStart} and metric = ${metric} and listed`.execute(
      db,
    );
    log(`  ${`${period}/${metric}`.padEnd(18)} from ${board.periodStart}: ${rows[0]?.n ?? 0}`);
  }
}

// ---- measure ------------------------------------------------------------------------------------

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function time(run: () => Promise<unknown>, count: number): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function randomListed(board: Board, count: number): Promise<string[]> {
  const { rows } = await sql<{ user_id: string }>`
    select user_id from leaderboard_totals
    where period = ${board.period} and period_start = ${board.periodStart} and metric = ${board.metric} and listed
    order by random() limit ${count}`.execute(db);
  return rows.map((row) => row.user_id);
}

const ms = (value: number) => `${value.toFixed(2)} ms`.padStart(10);
log(
  `\nlatency over ${SAMPLES} runs each, random users (one connection, in-process, no HTTP; load average ${loadavg()[0]?.toFixed(1)}):`,
);
log(
  `  ${'board'.padEnd(18)} ${'top-100 p50'.padStart(12)} ${'p99'.padStart(10)} ${'my-rank p50'.padStart(12)} ${'p99'.padStart(10)} ${'full view p50'.padStart(14)} ${'p99'.padStart(10)}`,
);
for (const period of periods as readonly Period[]) {
  for (const metric of metrics as readonly Metric[]) {
    const at = asOf[period];
    const board: Board = { period, periodStart: periodStart(period, at), metric };
    const users = await randomListed(board, SAMPLES);
    if (users.length === 0) continue;
    const view = (userId: string | null) => leaderboard(db, { period, metric, limit: 100, userId, now: at });
    await time(() => view(null), 20); // warm up
    const top = await time(() => view(null), SAMPLES);
    let next = 0;
    const rank = await time(async () => {
      const userId = users[next++ % users.length]!;
      const mine = await valueOf(db, board, userId);
      if (mine !== undefined) await countBetween(db, board, mine);
    }, SAMPLES);
    next = 0;
    const full = await time(() => view(users[next++ % users.length]!), SAMPLES);
    log(
      `  ${`${period}/${metric}`.padEnd(18)} ${ms(top.p50).padStart(12)} ${ms(top.p99)} ${ms(rank.p50).padStart(12)} ${ms(rank.p99)} ${ms(full.p50).padStart(14)} ${ms(full.p99)}`,
    );
  }
}

if (EXPLAIN) {
  const board: Board = { period: 'all_time', periodStart: periodStart('all_time', now), metric: 'xp' };
  const { rows } = await sql<{ value: number }>`
    select min(value) as value from leaderboard_totals
    where period = 'all_time' and metric = 'xp' and listed`.execute(db);
  const plan = await sql<{ 'QUERY PLAN': string }>`
    explain (analyze, buffers) select count(*) from leaderboard_totals
    where period = ${board.period} and period_start = ${board.periodStart} and metric = ${board.metric}
      and listed and value > ${rows[0]?.value ?? 0}`.execute(db);
  log('\nEXPLAIN ANALYZE — rank of the last user on the all-time XP board (the longest count):');
  for (const row of plan.rows) log(`  ${row['QUERY PLAN']}`);
}

log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
log(`database ${url.pathname.slice(1)}${process.env.KEEP_DB === '1' ? ' kept' : ''}`);
await db.destroy();
if (postgres.source === 'env' && process.env.KEEP_DB !== '1') {
  const cleanup = new pg.Client({ connectionString: postgres.url });
  await cleanup.connect();
  await cleanup.query(`drop database if exists "${url.pathname.slice(1)}" with (force)`);
  await cleanup.end();
}
await postgres.stop();
