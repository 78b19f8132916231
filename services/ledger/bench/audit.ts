/**
 * Benchmark of the audit replay (`ledger:audit verify` and `export`) on a large ledger log.
 *
 * Builds a log of EVENTS events (default 1,000,000) straight into the Postgres event store's tables,
 * as the engine and the sealer would have written them: transfers (rewards, top-ups, linked campaign
 * funding with its fee, bonuses, penalties, balancing sweeps, some moving 0) with their account
 * entries, pending withdrawals that are posted, voided or expired, accounts opened on first use, the
 * hash chain, a signed seal every 1000 events, and the balance projection at the last event. Then,
 * each in a child process of its own (so each peak RSS is its own):
 *   read         a bare sequential read of the same rows with the very reader `verify` and `export`
 *                use (src/audit/pg-rows.ts: the same keyset pages of es_events, prefetched, each row
 *                delivered to JS as the same array of text), rows discarded: what the database and
 *                pg cost, so that the ratio measures the audit's own work;
 *   verify       the CLI's `verify` over the database;
 *   export       the CLI's `export` to a file;
 *   verify-file  the CLI's `verify --file` of that export.
 * Each prints events/s, its ratio to the bare read, and the peak RSS and (sampled) heap.
 *
 *   pnpm bench:audit        (EVENTS=1000000 USERS=50000 BENCH_DURABLE=0
 *                            BENCH_AUDIT_PHASES=verify,export,verify-file BENCH_AUDIT_NODE_FLAGS=)
 *
 * Postgres comes from DATABASE_URL, else the embedded binaries (fsync off unless BENCH_DURABLE=1).
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { constants, PerformanceObserver, performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { resolvePostgres } from '@tessera/devstack';
import { migrateToLatest } from '@tessera/service-kit';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import {
  accountIds,
  accountStream,
  flagsFor,
  parseAccountId,
  transferStream,
} from '../src/domain/accounts.ts';
import { requestHash } from '../src/domain/request-hash.ts';
import type { TransferCode } from '../src/domain/transfers.ts';
import { projectionMigrations } from '../src/projections/schema.ts';
import { postgresEventStoreMigrations } from '../src/store/postgres-store.ts';
import { GENESIS_HASH, hashEvent } from '../src/audit/chain.ts';
import { runCli } from '../src/audit/cli.ts';
import { eventRowPages } from '../src/audit/pg-rows.ts';
import { AUDIT_PAGE_SIZE } from '../src/audit/sources.ts';
import { createSigner } from '../src/audit/seal-keys.ts';
import { publicKeyPem } from '../src/audit/seal.ts';
import { auditMigrations } from '../src/audit/tables.ts';
import { seededRandom } from '../src/domain/__fixtures__/seeded-random.ts';

const PHASE = process.env.BENCH_AUDIT_PHASE;
/** What `npm run ledger:audit` gives node (package.json); BENCH_AUDIT_NODE_FLAGS='' runs without. */
const NODE_FLAGS = (process.env.BENCH_AUDIT_NODE_FLAGS ?? '--max-semi-space-size=32')
  .split(' ')
  .filter(Boolean);

interface PhaseResult {
  events: number;
  seconds: number;
  /** The process's CPU time (user + system) over the same span: steadier than `seconds` on a shared machine. */
  cpuSeconds: number;
  maxRssMb: number;
  heapPeakMb: number;
  liveHeapMb: number;
  exitCode: number;
  output: string;
}

// ---- one measured phase, in a child process ---------------------------------------------------

async function runPhase(phase: string): Promise<void> {
  const url = process.env.BENCH_AUDIT_URL!;
  const file = process.env.BENCH_AUDIT_FILE!;
  const keyFile = process.env.BENCH_AUDIT_KEY!;
  let heapPeak = 0;
  const sample = () => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  };
  const sampler = setInterval(sample, 20);
  // Right after a full collection the heap holds little garbage: the most it held then is the
  // peak of what the run really keeps (heapUsed between collections includes garbage V8 defers).
  let livePeak = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { detail } = entry as unknown as { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        livePeak = Math.max(livePeak, process.memoryUsage().heapUsed);
      }
    }
  });
  gcs.observe({ entryTypes: ['gc'] });
  let output = '';
  const io = {
    out: (text: string) => void (output += `${text}\n`),
    err: (text: string) => void (output += `${text}\n`),
    env: process.env,
  };
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let events = 0;
  let exitCode = 0;
  if (phase === 'read') {
    // The CLI's pool (commands.ts: max 4), the CLI's reader and page size.
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    for await (const page of eventRowPages(pool, AUDIT_PAGE_SIZE)) {
      events += page.length;
      sample();
    }
    await pool.end();
  } else {
    const args = {
      verify: ['verify', '--database-url', url, '--public-key', keyFile],
      export: ['export', '--database-url', url, '--out', file],
      'verify-file': ['verify', '--file', file, '--public-key', keyFile],
    }[phase];
    if (!args) throw new Error(`unknown phase ${phase}`);
    exitCode = await runCli(args, io);
    events = Number(process.env.BENCH_AUDIT_EVENTS);
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(sampler);
  gcs.disconnect();
  sample();
  const result: PhaseResult = {
    events,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    heapPeakMb: heapPeak / 2 ** 20,
    liveHeapMb: livePeak / 2 ** 20,
    exitCode,
    output,
  };
  process.stdout.write(JSON.stringify(result));
}

// ---- the ledger log, generated ---------------------------------------------------------------

interface Account {
  id: string;
  debits_posted: number;
  credits_posted: number;
  debits_pending: number;
  credits_pending: number;
  revision: number;
  entries: number;
}

interface NewEvent {
  stream: string;
  revision: number;
  type: string;
  data: Record<string, unknown>;
}

interface Pending {
  id: string;
  debit: Account;
  credit: Account;
  amount: number;
  expiresAt: number;
  /** When the generator resolves it, and how. */
  due: number;
  action: 'post' | 'void' | 'expire';
}

const CURRENCY = 'USD';

/**
 * Yields the ledger's appends in order, each a list of events as the engine writes them (the
 * transfer streams first, then each account touched, opened on first use), with the append's time.
 */
function* ledgerAppends(
  users: number,
  state: Map<string, Account>,
): Generator<{ at: string; events: NewEvent[] }, void, undefined> {
  const next = seededRandom(15);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const between = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  let clock = Date.UTC(2026, 0, 1);
  const pendings: Pending[] = [];

  const account = (id: string): Account => {
    let a = state.get(id);
    if (!a) {
      a = {
        id,
        debits_posted: 0,
        credits_posted: 0,
        debits_pending: 0,
        credits_pending: 0,
        revision: -1,
        entries: 0,
      };
      state.set(id, a);
    }
    return a;
  };
  const available = (a: Account) => a.credits_posted - a.debits_posted - a.debits_pending;
  const companies = Array.from({ length: 100 }, () => accountIds.companyCredits(randomUUID()));
  const userIds = Array.from({ length: users }, () => accountIds.userAvailable(randomUUID()));
  let campaigns: string[] = [];

  function accountEvents(
    a: Account,
    transferId: string,
    cause: string,
    deltas: Record<string, number>,
    at: string,
  ) {
    const out: NewEvent[] = [];
    if (a.revision < 0) {
      const identity = parseAccountId(a.id)!;
      a.revision += 1;
      out.push({
        stream: accountStream(a.id, CURRENCY),
        revision: a.revision,
        type: 'account-opened',
        data: {
          account_id: a.id,
          currency: CURRENCY,
          kind: identity.kind,
          owner: identity.owner,
          flags: flagsFor(identity.kind),
          at,
        },
      });
    }
    a.revision += 1;
    a.entries += 1;
    const full = { debits_posted: 0, credits_posted: 0, debits_pending: 0, credits_pending: 0, ...deltas };
    a.debits_posted += full.debits_posted;
    a.credits_posted += full.credits_posted;
    a.debits_pending += full.debits_pending;
    a.credits_pending += full.credits_pending;
    out.push({
      stream: accountStream(a.id, CURRENCY),
      revision: a.revision,
      type: 'account-entry',
      data: { account_id: a.id, currency: CURRENCY, transfer_id: transferId, cause, ...full, at },
    });
    return out;
  }

  interface Request {
    debit: string;
    credit: string;
    amount: number;
    code: TransferCode;
    metadata?: Record<string, string>;
    balancing?: boolean;
    timeoutSeconds?: number;
  }

  /** One engine append: the linked transfers' streams, then the accounts' entries. */
  function transfer(at: string, ...requests: Request[]): NewEvent[] {
    const ids = requests.map(() => randomUUID());
    const transfers: NewEvent[] = [];
    const entries = new Map<string, NewEvent[]>();
    requests.forEach((r, i) => {
      const id = ids[i]!;
      const debit = account(r.debit);
      const credit = account(r.credit);
      const constrained = flagsFor(parseAccountId(r.debit)!.kind).debits_must_not_exceed_credits;
      const amount =
        r.balancing && constrained ? Math.min(r.amount, Math.max(0, available(debit))) : r.amount;
      const pending = r.timeoutSeconds !== undefined;
      const metadata = r.metadata ?? {};
      const request = {
        id,
        debit_account: r.debit,
        credit_account: r.credit,
        amount: r.amount,
        currency: CURRENCY,
        code: r.code,
        metadata,
        ...(pending ? { pending: { timeout_seconds: r.timeoutSeconds! } } : {}),
        ...(r.balancing ? { balancing_debit: true } : {}),
      };
      const expiresAt = pending ? clock + r.timeoutSeconds! * 1000 : null;
      transfers.push({
        stream: transferStream(id),
        revision: 0,
        type: 'transfer-created',
        data: {
          id,
          debit_account: r.debit,
          credit_account: r.credit,
          amount,
          requested_amount: r.amount,
          currency: CURRENCY,
          code: r.code,
          metadata,
          pending,
          expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
          balancing_debit: r.balancing ?? false,
          linked_ids: ids,
          request_hash: requestHash(request),
          at,
        },
      });
      if (amount === 0) return;
      const [dField, cField] = pending
        ? ['debits_pending', 'credits_pending']
        : ['debits_posted', 'credits_posted'];
      for (const [a, deltas] of [
        [debit, { [dField]: amount }],
        [credit, { [cField]: amount }],
      ] as const) {
        const list = entries.get(a.id) ?? [];
        list.push(...accountEvents(a, id, 'transfer-created', deltas, at));
        entries.set(a.id, list);
      }
      if (pending) {
        const action = next() < 0.6 ? 'post' : next() < 0.5 ? 'void' : 'expire';
        const due = action === 'expire' ? expiresAt! : clock + between(1, 30) * 1000;
        pendings.push({ id, debit, credit, amount, expiresAt: expiresAt!, due, action });
      }
    });
    return [...transfers, ...[...entries.values()].flat()];
  }

  function resolve(p: Pending, at: string): NewEvent[] {
    const type = { post: 'pending-posted', void: 'pending-voided', expire: 'pending-expired' }[p.action];
    const posted = p.action === 'post' ? p.amount : 0;
    return [
      { stream: transferStream(p.id), revision: 1, type, data: { transfer_id: p.id, amount: p.amount, at } },
      ...accountEvents(p.debit, p.id, type, { debits_pending: -p.amount, debits_posted: posted }, at),
      ...accountEvents(p.credit, p.id, type, { credits_pending: -p.amount, credits_posted: posted }, at),
    ];
  }

  for (;;) {
    clock += between(1, 20);
    const at = new Date(clock).toISOString();
    pendings.sort((a, b) => a.due - b.due);
    while (pendings.length > 0 && pendings[0]!.due <= clock) {
      yield { at, events: resolve(pendings.shift()!, at) };
    }
    const roll = next();
    const company = pick(companies);
    const credits = account(company);
    if (campaigns.length === 0 || roll < 0.01) {
      if (available(credits) < 60_000) {
        yield {
          at,
          events: transfer(at, {
            debit: accountIds.world,
            credit: company,
            amount: 1_000_000,
            code: 'topup',
          }),
        };
        continue;
      }
      const budget = accountIds.campaignBudget(randomUUID());
      campaigns = [...campaigns.slice(-199), budget];
      yield {
        at,
        events: transfer(
          at,
          {
            debit: company,
            credit: budget,
            amount: 50_000,
            code: 'campaign_funding',
            metadata: { company_id: company.split(':')[1]! },
          },
          { debit: company, credit: accountIds.platformRevenue, amount: 5_000, code: 'platform_fee' },
        ),
      };
    } else if (roll < 0.8) {
      const budget = pick(campaigns);
      const amount = between(5, 200);
      if (available(account(budget)) < amount) {
        // A balancing sweep of what is left (often 0), and the campaign is done.
        yield {
          at,
          events: transfer(at, {
            debit: budget,
            credit: pick(companies),
            amount: 1_000_000,
            code: 'refund',
            balancing: true,
          }),
        };
        campaigns = campaigns.filter((c) => c !== budget);
        continue;
      }
      yield {
        at,
        events: transfer(at, {
          debit: budget,
          credit: pick(userIds),
          amount,
          code: 'reward',
          metadata: { submission_id: randomUUID(), causation_id: randomUUID() },
        }),
      };
    } else if (roll < 0.85) {
      yield {
        at,
        events: transfer(at, {
          debit: accountIds.platformPromotions,
          credit: pick(userIds),
          amount: 250,
          code: 'bonus',
        }),
      };
    } else {
      const user = pick(userIds);
      const have = available(account(user));
      if (have < 20) continue;
      if (roll < 0.9) {
        yield {
          at,
          events: transfer(at, {
            debit: user,
            credit: accountIds.platformRevenue,
            amount: 10,
            code: 'penalty',
          }),
        };
      } else {
        const amount = between(10, have);
        yield {
          at,
          events: transfer(at, {
            debit: user,
            credit: accountIds.world,
            amount,
            code: 'withdrawal',
            timeoutSeconds: 60,
          }),
        };
      }
    }
  }
}

interface Batch {
  positions: number[];
  streams: string[];
  revisions: number[];
  ids: string[];
  types: string[];
  data: string[];
  times: string[];
  hashes: string[];
  prevs: string[];
  seals: { seq: number; hash: string; sealed_at: string; key_id: string; signature: string }[];
}

/**
 * The rows of the next BATCH events, hashed and sealed as the sealer would: pure CPU, so it runs
 * while the previous batch is being inserted.
 */
function nextBatch(
  appends: Generator<{ at: string; events: NewEvent[] }, void, undefined>,
  chain: { seq: number; prev: string },
  events: number,
  sealKey: ReturnType<typeof createSigner>,
): Batch {
  const batch: Batch = {
    positions: [],
    streams: [],
    revisions: [],
    ids: [],
    types: [],
    data: [],
    times: [],
    hashes: [],
    prevs: [],
    seals: [],
  };
  while (batch.ids.length < 10_000 && chain.seq < events) {
    const append = appends.next().value!;
    for (const e of append.events) {
      chain.seq += 1;
      const id = randomUUID();
      const hash = hashEvent(chain.prev, chain.seq, {
        id,
        stream: e.stream,
        revision: e.revision,
        type: e.type,
        data: e.data as never,
        metadata: {},
        recorded_at: append.at,
      });
      batch.positions.push(chain.seq);
      batch.streams.push(e.stream);
      batch.revisions.push(e.revision);
      batch.ids.push(id);
      batch.types.push(e.type);
      batch.data.push(JSON.stringify(e.data));
      batch.times.push(append.at);
      batch.hashes.push(hash);
      batch.prevs.push(chain.prev);
      chain.prev = hash;
      if (chain.seq % 1000 === 0)
        batch.seals.push(sealKey.sign({ seq: chain.seq, hash, sealed_at: append.at }));
    }
  }
  if (chain.seq >= events && batch.seals.at(-1)?.seq !== chain.seq) {
    batch.seals.push(sealKey.sign({ seq: chain.seq, hash: chain.prev, sealed_at: batch.times.at(-1)! }));
  }
  return batch;
}

/**
 * One batch in one statement (one transaction, one round trip): the events, their links with the
 * checkpoints the store gives them (its transaction id and position), and the seals.
 */
function insertBatch(pool: pg.Pool, b: Batch): Promise<unknown> {
  return pool.query(
    `with events as (
       insert into es_events (position, stream, revision, event_id, type, data, metadata, recorded_at)
       select p, s, r, i, t, d::jsonb, '{}'::jsonb, a
       from unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[])
         as x(p, s, r, i, t, d, a)),
     links as (
       insert into audit_chain (seq, event_id, checkpoint, hash, prev_hash)
       select p, i, lpad(pg_current_xact_id()::text, 20, '0') || '.' || lpad(p::text, 20, '0'), h, ph
       from unnest($1::bigint[], $4::uuid[], $8::text[], $9::text[]) as x(p, i, h, ph))
     insert into audit_seals (seq, hash, sealed_at, key_id, signature)
     select * from unnest($10::bigint[], $11::text[], $12::timestamptz[], $13::text[], $14::text[])`,
    [
      b.positions,
      b.streams,
      b.revisions,
      b.ids,
      b.types,
      b.data,
      b.times,
      b.hashes,
      b.prevs,
      b.seals.map((s) => s.seq),
      b.seals.map((s) => s.hash),
      b.seals.map((s) => s.sealed_at),
      b.seals.map((s) => s.key_id),
      b.seals.map((s) => s.signature),
    ],
  );
}

async function build(pool: pg.Pool, events: number, users: number, sealKey: ReturnType<typeof createSigner>) {
  const accounts = new Map<string, Account>();
  const appends = ledgerAppends(users, accounts);
  const chain = { seq: 0, prev: GENESIS_HASH };
  let writing: Promise<unknown> = Promise.resolve();
  while (chain.seq < events) {
    const batch = nextBatch(appends, chain, events, sealKey);
    await writing;
    writing = insertBatch(pool, batch);
    if (process.stderr.isTTY) {
      process.stderr.write(
        `\rbuilding ${chain.seq.toLocaleString('en-US')}/${events.toLocaleString('en-US')} events`,
      );
    }
  }
  await writing;
  const client = await pool.connect();
  try {
    if (process.stderr.isTTY) process.stderr.write('\n');
    await client.query(`select setval(pg_get_serial_sequence('es_events', 'position'), $1)`, [chain.seq]);
    await client.query(
      `insert into es_streams (stream, revision) select stream, max(revision) from es_events group by stream`,
    );
    const list = [...accounts.values()].filter((a) => a.revision >= 0);
    await client.query(
      `insert into account_balances (account_id, currency, kind, owner, debits_posted, credits_posted,
         debits_pending, credits_pending, line_count, updated_at)
       select a, $2, k, o, dp, cp, dpe, cpe, n, now()
       from unnest($1::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
         as x(a, k, o, dp, cp, dpe, cpe, n)`,
      [
        list.map((a) => a.id),
        CURRENCY,
        list.map((a) => parseAccountId(a.id)!.kind),
        list.map((a) => parseAccountId(a.id)!.owner),
        list.map((a) => a.debits_posted),
        list.map((a) => a.credits_posted),
        list.map((a) => a.debits_pending),
        list.map((a) => a.credits_pending),
        list.map((a) => a.entries),
      ],
    );
    await client.query(
      `update projection_checkpoint set checkpoint = (select checkpoint from audit_chain where seq = $1)
       where name = 'ledger'`,
      [chain.seq],
    );
    await client.query('vacuum analyze es_events');
    await client.query('vacuum analyze audit_chain');
    return { accounts: list.length, events: chain.seq };
  } finally {
    client.release();
  }
}

// ---- run ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
  const USERS = Number(process.env.USERS ?? 50_000);
  const DURABLE = process.env.BENCH_DURABLE === '1';
  // The phases after the bare read, in order, e.g. `verify,verify` to time verify twice on one build.
  const PHASES = (process.env.BENCH_AUDIT_PHASES ?? 'verify,export,verify-file').split(',');
  if (PHASES.includes('verify-file') && PHASES.indexOf('export') > PHASES.indexOf('verify-file')) {
    throw new Error('BENCH_AUDIT_PHASES: verify-file reads the file export writes, so export comes first');
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ledger-audit-bench-'));
  // Apart from `dir`: initdb runs as the postgres user, who cannot enter a 0700 folder of ours.
  const dataDir = DURABLE ? await mkdtemp(path.join(os.tmpdir(), 'ledger-audit-bench-pg-')) : undefined;
  const postgres = await resolvePostgres({ containers: false, persistent: DURABLE, dataDir });
  try {
    const url = new URL(postgres.url);
    url.pathname = `/ledger_audit_bench_${Date.now()}`;
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`create database "${url.pathname.slice(1)}"`);
    const settings = await admin.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'server_version')`,
    );
    await admin.end();
    const setting = (name: string) => settings.rows.find((r) => r.name === name)?.setting ?? '?';

    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    pool.on('error', () => undefined);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    await migrateToLatest(db, {
      ...postgresEventStoreMigrations,
      ...projectionMigrations,
      ...auditMigrations,
    });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = createSigner(privateKey);
    await pool.query(`insert into audit_seal_keys (key_id, public_key, private_key) values ($1, $2, null)`, [
      signer.keyId,
      publicKeyPem(publicKey),
    ]);
    const keyFile = path.join(dir, 'seal.pub');
    await writeFile(keyFile, publicKeyPem(publicKey));

    const buildStart = performance.now();
    const { accounts, events: total } = await build(pool, EVENTS, USERS, signer);
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const size = await pool.query<{ size: string }>(
      `select pg_size_pretty(pg_total_relation_size('es_events')) as size`,
    );
    await db.destroy();

    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(
      `Postgres ${setting('server_version')} (${postgres.source}; fsync=${setting('fsync')}, ` +
        `synchronous_commit=${setting('synchronous_commit')}), node ${process.version} ${NODE_FLAGS.join(' ') || '(no flags)'}, ` +
        `${os.cpus().length} CPUs`,
    );
    console.log(
      `log: ${fmt(total)} events, ${fmt(accounts)} accounts, es_events ${size.rows[0]?.size}; ` +
        `built in ${buildSeconds.toFixed(1)} s; pages of ${AUDIT_PAGE_SIZE.toLocaleString('en-US')} rows\n`,
    );

    const file = path.join(dir, 'ledger.ndjson');
    const run = promisify(execFile);
    const phase = async (name: string): Promise<PhaseResult> => {
      const { stdout } = await run(
        process.execPath,
        [...process.execArgv, ...NODE_FLAGS, path.resolve(import.meta.filename)],
        {
          env: {
            ...process.env,
            BENCH_AUDIT_PHASE: name,
            BENCH_AUDIT_URL: url.toString(),
            BENCH_AUDIT_FILE: file,
            BENCH_AUDIT_KEY: keyFile,
            BENCH_AUDIT_EVENTS: String(total),
          },
          maxBuffer: 64 * 2 ** 20,
        },
      );
      const result = JSON.parse(stdout) as PhaseResult;
      if (result.exitCode !== 0 || result.events !== total) {
        throw new Error(
          `${name} did not pass (exit ${result.exitCode}, ${result.events} events):\n${result.output}`,
        );
      }
      return result;
    };

    const rows: [string, PhaseResult][] = [];
    const bare = await phase('read');
    rows.push(['bare read', bare]);
    for (const name of PHASES) rows.push([name, await phase(name)]);
    const fileSize = PHASES.includes('export') ? (await stat(file)).size : 0;

    const bareRate = bare.events / bare.seconds;
    const header = [
      'run',
      'events',
      'seconds',
      'CPU s',
      'events/s',
      'x bare read',
      'peak RSS MB',
      'peak heap MB',
      'live heap MB',
    ];
    const table = rows.map(([name, r]) => [
      name,
      fmt(r.events),
      r.seconds.toFixed(2),
      r.cpuSeconds.toFixed(2),
      fmt(r.events / r.seconds),
      (r.events / r.seconds / bareRate).toFixed(2),
      fmt(r.maxRssMb),
      fmt(r.heapPeakMb),
      fmt(r.liveHeapMb),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
    console.log(line(header));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const row of table) console.log(line(row));
    console.log(
      `\nexport file: ${fmt(fileSize / 2 ** 20)} MB. Each run is its own process, timed around runCli (node and tsx start-up excluded); ` +
        `${PHASES.join(', ')} all PASSED.\n` +
        "CPU s: the process's user + system time over the run (the database's is apart). " +
        'peak heap: heapUsed sampled every 20 ms (garbage included); live heap: the most heapUsed ' +
        'right after a full GC; peak RSS: the process maximum (getrusage).',
    );
    const verifyOutput = rows.find(([name]) => name === 'verify')?.[1].output;
    if (verifyOutput !== undefined) console.log(`\nverify report:\n${verifyOutput}`);
  } finally {
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

if (PHASE) await runPhase(PHASE);
else await main();
