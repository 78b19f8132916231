/**
 * Benchmark of the ledger's write path on Postgres, side by side with the seed's
 * `process_task_reward` SQL function on the same server:
 * - store appends/s of a realistic transfer (transfer stream + debited account at its expected
 *   revision + credited account), with writers on distinct accounts and on one hot account;
 * - engine transfers/s through `createLedger` (its writer decides what queued in memory and appends
 *   each batch at once), same shapes, with the mean batch and the share of batches sent while
 *   another was in flight (the pipeline, `LEDGER_PIPELINE_DEPTH`, default 2);
 * - the seed function (update balance, insert transaction, approve submission) per user / hot user;
 * - replay: readAll events/s over the whole log.
 *
 *   pnpm --filter @tessera/ledger bench        (BENCH_SECONDS=3 WRITERS=1,8,64 BENCH_DURABLE=0 BENCH_NOTIFY=1
 *                                               BENCH_PARTS=store,engine,seed)
 *
 * BENCH_PARTS=engine measures the engine alone, on a log that nothing else has grown first (what a
 * new ledger meets before Postgres has analyzed its tables).
 *
 * Postgres comes from DATABASE_URL, else the embedded binaries (fsync off unless BENCH_DURABLE=1).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolvePostgres } from '@tessera/devstack';
import pg from 'pg';
import { accountIds, accountStream, transferStream } from '../src/domain/accounts.ts';
import { createLedger } from '../src/engine/ledger.ts';
import { type StreamAppend, WrongExpectedRevisionError } from '../src/store/event-store.ts';
import { createPostgresEventStore } from '../src/store/postgres-store.ts';
import { percentile } from '@tessera/service-kit/testing';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WRITERS = (process.env.WRITERS ?? '1,8,64').split(',').map(Number);
const DURABLE = process.env.BENCH_DURABLE === '1';
/** NOTIFY on every append (the default) wakes subscribers at once; without it they poll. */
const NOTIFY = process.env.BENCH_NOTIFY !== '0';
const PARTS = new Set((process.env.BENCH_PARTS ?? 'store,engine,seed').split(','));
const CURRENCY = 'EUR';
const MODES = ['distinct', 'hot'] as const;
type Mode = (typeof MODES)[number];

const dataDir = DURABLE ? await mkdtemp(path.join(os.tmpdir(), 'ledger-bench-')) : undefined;
const postgres = await resolvePostgres({ containers: false, persistent: DURABLE, dataDir });
const url = new URL(postgres.url);
url.pathname = `/ledger_bench_${Date.now()}`;
const admin = new pg.Client({ connectionString: postgres.url });
await admin.connect();
await admin.query(`create database "${url.pathname.slice(1)}"`);
const settings = await admin.query<{ name: string; setting: string }>(
  `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'server_version')`,
);
await admin.end();

const maxWriters = Math.max(...WRITERS);
const store = await createPostgresEventStore({
  db: url.toString(),
  poolSize: maxWriters + 4,
  migrate: true,
  notify: NOTIFY,
});

interface Measured {
  ops: number;
  perSecond: number;
  p50: number;
  p99: number;
  retries: number;
  /** Engine only: commands per append (the writer's mean batch). */
  meanBatch?: number;
  /** Engine only: the share of batches sent while another was in flight. */
  overlapped?: number;
}

/** Runs `writers` loops of `op` for SECONDS; `op` returns how many optimistic retries it needed. */
async function measure(
  writers: number,
  seconds: number,
  op: (writer: number) => Promise<number>,
): Promise<Measured> {
  const latencies: number[] = [];
  let retries = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        retries += await op(writer);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  return {
    ops: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
    retries,
  };
}

// ---- store appends: what the engine writes for one reward transfer ---------------------------

function rewardAppend(debit: string, credit: string, expected: number | 'no_stream'): StreamAppend[] {
  const id = randomUUID();
  const at = new Date().toISOString();
  const amount = 1 + Math.floor(Math.random() * 500);
  const entry = (account: string, debits: number, credits: number) => ({
    id: randomUUID(),
    type: 'account-entry',
    data: {
      account_id: account,
      currency: CURRENCY,
      transfer_id: id,
      cause: 'transfer-created',
      debits_posted: debits,
      credits_posted: credits,
      debits_pending: 0,
      credits_pending: 0,
      at,
    },
  });
  return [
    {
      stream: transferStream(id),
      expected: 'no_stream',
      events: [
        {
          id: randomUUID(),
          type: 'transfer-created',
          data: {
            id,
            debit_account: debit,
            credit_account: credit,
            amount,
            requested_amount: amount,
            currency: CURRENCY,
            code: 'reward',
            metadata: { causation_id: randomUUID(), submission_id: randomUUID() },
            pending: false,
            expires_at: null,
            balancing_debit: false,
            linked_ids: [id],
            request_hash: 'f'.repeat(64),
            at,
          },
        },
      ],
    },
    { stream: accountStream(debit, CURRENCY), expected, events: [entry(debit, amount, 0)] },
    { stream: accountStream(credit, CURRENCY), expected: 'any', events: [entry(credit, 0, amount)] },
  ];
}

/** Debited and credited accounts for each writer: its own campaign, or one shared by all. */
function accountsFor(mode: Mode, writers: number) {
  const hot = accountIds.campaignBudget(randomUUID());
  return Array.from({ length: writers }, () => ({
    debit: mode === 'hot' ? hot : accountIds.campaignBudget(randomUUID()),
    credits: Array.from({ length: 16 }, () => accountIds.userAvailable(randomUUID())),
  }));
}

async function benchStore(mode: Mode, writers: number, seconds = SECONDS): Promise<Measured> {
  const accounts = accountsFor(mode, writers);
  const known = new Map<string, number>();
  let n = 0;
  return measure(writers, seconds, async (writer) => {
    const { debit, credits } = accounts[writer]!;
    for (let retries = 0; ; retries++) {
      const revision = known.get(debit) ?? -1;
      try {
        const result = await store.append(
          rewardAppend(debit, credits[n++ % credits.length]!, revision < 0 ? 'no_stream' : revision),
        );
        const written = result.streams[1]!.revision;
        if (written > (known.get(debit) ?? -1)) known.set(debit, written);
        return retries;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        const actual = error.actual === 'no_stream' ? -1 : error.actual;
        if (actual > (known.get(debit) ?? -1)) known.set(debit, actual);
      }
    }
  });
}

// ---- the engine: read, decide, append ------------------------------------------------------

const engine = createLedger(store, { pipelineDepth: Number(process.env.LEDGER_PIPELINE_DEPTH ?? 2) });

async function benchEngine(mode: Mode, writers: number, seconds = SECONDS): Promise<Measured> {
  const accounts = accountsFor(mode, writers);
  for (const debit of new Set(accounts.map((a) => a.debit))) {
    const company = accountIds.companyCredits(randomUUID());
    const funding = [
      { debit_account: accountIds.world, credit_account: company, code: 'topup' as const },
      { debit_account: company, credit_account: debit, code: 'campaign_funding' as const },
    ];
    for (const leg of funding) {
      const outcome = await engine.transfer([{ id: randomUUID(), amount: 1e13, currency: CURRENCY, ...leg }]);
      if (!outcome.ok) throw new Error(`funding refused: ${JSON.stringify(outcome.rejection)}`);
    }
  }
  let n = 0;
  const before = engine.stats();
  const measured = await measure(writers, seconds, async (writer) => {
    const { debit, credits } = accounts[writer]!;
    const outcome = await engine.transfer([
      {
        id: randomUUID(),
        debit_account: debit,
        credit_account: credits[n++ % credits.length]!,
        amount: 1 + Math.floor(Math.random() * 500),
        currency: CURRENCY,
        code: 'reward',
        metadata: { submission_id: randomUUID() },
      },
    ]);
    if (!outcome.ok) throw new Error(`transfer refused: ${JSON.stringify(outcome.rejection)}`);
    return 0;
  });
  const after = engine.stats();
  const batches = after.batches - before.batches;
  return {
    ...measured,
    meanBatch: (after.commands - before.commands) / batches,
    overlapped: (after.overlapped - before.overlapped) / batches,
  };
}

// ---- the seed's process_task_reward, verbatim, on minimal tables ------------------------------

const SEED_SQL = `
  create schema seed;
  set search_path = seed;
  create table users (
    id uuid primary key default gen_random_uuid(),
    balance decimal(10,2) default 0.00,
    total_earned decimal(10,2) default 0.00,
    updated_at timestamptz default now()
  );
  create table submissions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid references users(id) on delete cascade,
    status varchar(20) default 'pending',
    reviewed_at timestamptz
  );
  create table transactions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid references users(id) on delete cascade,
    type varchar(20) not null,
    amount decimal(10,2) not null,
    balance_after decimal(10,2) not null,
    submission_id uuid references submissions(id),
    description text not null,
    created_at timestamptz default now(),
    constraint valid_type check (type in ('earning', 'withdrawal', 'bonus', 'penalty', 'refund'))
  );
  create index idx_transactions_user_id on transactions(user_id);
  CREATE OR REPLACE FUNCTION process_task_reward(p_user_id UUID, p_submission_id UUID, p_reward DECIMAL)
  RETURNS BOOLEAN AS $$
  DECLARE
    v_new_balance DECIMAL;
  BEGIN
    UPDATE users SET balance = balance + p_reward, total_earned = total_earned + p_reward, updated_at = now()
    WHERE id = p_user_id RETURNING balance INTO v_new_balance;
    INSERT INTO transactions (user_id, type, amount, balance_after, submission_id, description)
    VALUES (p_user_id, 'earning', p_reward, v_new_balance, p_submission_id, 'Task reward');
    UPDATE submissions SET status = 'approved', reviewed_at = now() WHERE id = p_submission_id;
    RETURN TRUE;
  EXCEPTION
    WHEN OTHERS THEN
      RETURN FALSE;
  END;
  $$ LANGUAGE plpgsql;`;

const seedPool = new pg.Pool({
  connectionString: url.toString(),
  max: maxWriters + 4,
  options: '-c search_path=seed',
});
// pg's Pool.end() resolves before its sockets close; the server stopping right after is expected.
seedPool.on('error', () => undefined);
await seedPool.query(SEED_SQL);

async function benchSeed(mode: Mode, writers: number, seconds = SECONDS): Promise<Measured> {
  const users = (
    await seedPool.query<{ id: string }>(
      `insert into users (balance) select 0 from generate_series(1, $1) returning id`,
      [mode === 'hot' ? 1 : writers],
    )
  ).rows.map((r) => r.id);
  // Enough pending submissions per writer for the run; each call approves a fresh one.
  const perWriter = 40_000;
  const submissions = await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const user = users[mode === 'hot' ? 0 : writer]!;
      const { rows } = await seedPool.query<{ id: string }>(
        `insert into submissions (user_id) select $1 from generate_series(1, $2) returning id`,
        [user, perWriter],
      );
      return rows.map((r) => r.id);
    }),
  );
  const next = new Array<number>(writers).fill(0);
  return measure(writers, seconds, async (writer) => {
    const user = users[mode === 'hot' ? 0 : writer]!;
    const submission = submissions[writer]![next[writer]!++ % perWriter]!;
    const reward = (1 + Math.floor(Math.random() * 500)) / 100;
    const { rows } = await seedPool.query<{ ok: boolean }>('select process_task_reward($1, $2, $3) as ok', [
      user,
      submission,
      reward,
    ]);
    if (!rows[0]?.ok) throw new Error('process_task_reward returned false');
    return 0;
  });
}

// ---- run ------------------------------------------------------------------------------------

interface Row {
  mode: Mode;
  writers: number;
  store?: Measured;
  engine?: Measured;
  seed?: Measured;
}

// Warm-up (plpgsql plans, JIT, caches): one short unrecorded round of each.
if (PARTS.has('store')) await benchStore('distinct', 1, 0.5);
if (PARTS.has('engine')) await benchEngine('distinct', 1, 0.5);
if (PARTS.has('seed')) await benchSeed('distinct', 1, 0.5);

const rows: Row[] = [];
for (const mode of MODES) {
  for (const writers of WRITERS) {
    const storeRun = PARTS.has('store') ? await benchStore(mode, writers) : undefined;
    const engineRun = PARTS.has('engine') ? await benchEngine(mode, writers) : undefined;
    const seedRun = PARTS.has('seed') ? await benchSeed(mode, writers) : undefined;
    rows.push({ mode, writers, store: storeRun, engine: engineRun, seed: seedRun });
    console.error(`done: ${mode} x${writers}`);
  }
}

// Replay: the whole log, page by page, as a projector rebuild or the audit would read it.
let replayed = 0;
const replayStart = performance.now();
for (let after: string | undefined; ;) {
  const page = await store.readAll({ after, limit: 1000 });
  replayed += page.length;
  if (page.length < 1000) break;
  after = page.at(-1)!.checkpoint;
}
const replaySeconds = (performance.now() - replayStart) / 1000;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => n.toFixed(1);
const setting = (name: string) => settings.rows.find((r) => r.name === name)?.setting ?? '?';
console.log(
  `\nPostgres ${setting('server_version')} (${postgres.source}; fsync=${setting('fsync')}, ` +
    `synchronous_commit=${setting('synchronous_commit')}), NOTIFY ${NOTIFY ? 'on' : 'off'}, ` +
    `node ${process.version}, ${SECONDS}s per cell, ` +
    `${os.cpus().length} CPUs\n`,
);
const header = [
  'debited account',
  'writers',
  'store appends/s',
  'p50/p99 ms',
  'retries',
  'engine transfers/s',
  'p50/p99 ms',
  'mean batch',
  'in flight',
  'seed fn calls/s',
  'p50/p99 ms',
  'store:seed',
  'engine:seed',
];
const cell = (m: Measured | undefined, show: (m: Measured) => string) => (m ? show(m) : '-');
const ratio = (a: Measured | undefined, b: Measured | undefined) =>
  a && b ? (a.perSecond / b.perSecond).toFixed(2) : '-';
const table = rows.map((r) => [
  r.mode === 'hot' ? 'one hot account' : 'one per writer',
  String(r.writers),
  cell(r.store, (m) => fmt(m.perSecond)),
  cell(r.store, (m) => `${ms(m.p50)}/${ms(m.p99)}`),
  cell(r.store, (m) => fmt(m.retries)),
  cell(r.engine, (m) => fmt(m.perSecond)),
  cell(r.engine, (m) => `${ms(m.p50)}/${ms(m.p99)}`),
  cell(r.engine, (m) => (m.meanBatch ?? 0).toFixed(1)),
  cell(r.engine, (m) => `${Math.round((m.overlapped ?? 0) * 100)}%`),
  cell(r.seed, (m) => fmt(m.perSecond)),
  cell(r.seed, (m) => `${ms(m.p50)}/${ms(m.p99)}`),
  ratio(r.store, r.seed),
  ratio(r.engine, r.seed),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table) console.log(line(row));
console.log(
  `\nA store append = 3 streams, 3 events (transfer-created + 2 account-entry), one round trip.` +
    `\nretries = appends refused at a stale expected revision and retried (raw store, no in-process queue).` +
    `\nreplay: readAll over ${fmt(replayed)} events in ${replaySeconds.toFixed(2)} s = ` +
    `${fmt(replayed / replaySeconds)} events/s`,
);

await seedPool.end();
await store.close();
await postgres.stop();
if (dataDir) await rm(dataDir, { recursive: true, force: true });
