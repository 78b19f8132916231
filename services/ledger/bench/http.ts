/**
 * The ledger's HTTP path: admin adjustments (POST /api/v1/admin/ledger/adjustments) from CLIENTS
 * concurrent keep-alive clients, straight at the ledger service and through the gateway, beside the
 * engine alone doing the same transfers in this process; req/s, p50, p99, errors, and the CPU each
 * process spends per request, so the difference can be put where it goes.
 *
 *   pnpm bench:ledger-http       (or pnpm --filter @tessera/ledger bench:http)
 *     CLIENTS=64 DURATION_MS=3000 WARMUP_MS=1500 ROUNDS=3
 *     KINDS=penalty,bonus     penalty: each client's own funded user → platform:revenue (distinct
 *                             debited accounts); bonus: platform:promotions → a user (one hot account)
 *     BENCH_DURABLE=1         Postgres with fsync and synchronous commit on (default off)
 *     BENCH_ENGINE=0          skip the in-process engine runs
 *     BENCH_LOG_LEVEL=info    the ledger's and gateway's LOG_LEVEL (info as deployed: a line a request)
 *     BENCH_PROFILE=1         V8 CPU profiles of the ledger and gateway: CPU by component (adds overhead)
 *
 * Real processes (http-stack.ts): Postgres, nats-server with per-service users, the ledger service
 * (src/server.ts, NODE_ENV=development) and the gateway (infra/gateway/src/server.ts). The ledger
 * verifies an EdDSA admin token against a JWKS, as it does identity's. Each kind is one fresh set of
 * users; every round runs engine, direct and gateway back to back so a noisy neighbour hurts all
 * three alike, and the median of the rounds is reported. Before each run the ledger is left to
 * finish the previous run's background work (projection, outcomes, sealing). CPU is read from
 * /proc: the ledger, the gateway, the Postgres server (postmaster and its backends), nats-server,
 * and this process (the load, plus the engine in the engine runs).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { adjustmentTransfer, type AdjustmentKind, adjustmentKinds } from '../src/domain/adjustments.ts';
import { createLedger } from '../src/engine/ledger.ts';
import type { LedgerEngine } from '../src/engine/types.ts';
import type { EventStore } from '../src/store/event-store.ts';
import { createPostgresEventStore } from '../src/store/postgres-store.ts';
import { profileBreakdown } from './cpu-profile.ts';
import { createDatabase, type Stack, startStack } from './http-stack.ts';
import { httpClient, type LoadResult, type Operation, ownCpuMs, runLoad } from './load.ts';
import { processCpuMs, treeCpuMs } from './proc-cpu.ts';

const CLIENTS = Number(process.env.CLIENTS ?? 64);
const DURATION_MS = Number(process.env.DURATION_MS ?? 3_000);
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 1_500);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const KINDS = (process.env.KINDS ?? 'penalty,bonus').split(',') as AdjustmentKind[];
const DURABLE = process.env.BENCH_DURABLE === '1';
const ENGINE = process.env.BENCH_ENGINE !== '0';
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const PROFILE = process.env.BENCH_PROFILE === '1';
const PATH = '/api/v1/admin/ledger/adjustments';
const CURRENCY = 'USD';
const TARGETS = ['engine', 'direct', 'gateway'] as const;
type Target = (typeof TARGETS)[number];

for (const kind of KINDS) {
  if (!(adjustmentKinds as readonly string[]).includes(kind)) {
    throw new Error(`KINDS: "${kind}" is not an adjustment kind (${adjustmentKinds.join(', ')})`);
  }
}

const say = (line: string) => console.error(`[bench] ${line}`);
const profileDir = PROFILE ? await mkdtemp(path.join(os.tmpdir(), 'ledger-http-profiles-')) : undefined;
let stack: Stack | undefined;
let engineStore: EventStore | undefined;
let statsClient: pg.Client | undefined;
let cleaning: Promise<void> | undefined;
/** Set by SIGINT / SIGTERM: the run then fails on the servers going away, which is no news. */
let interrupted = false;
const cleanUp = () =>
  (cleaning ??= (async () => {
    await engineStore?.close().catch(() => undefined);
    await statsClient?.end().catch(() => undefined);
    await stack?.stop();
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    say(`${signal}: stopping everything`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  stack = await startStack({
    durable: DURABLE,
    logLevel: LOG_LEVEL,
    profileDir,
    log: (l) => say(`starting ${l}`),
  });
  const running = stack;
  const token = running.issuer.token({ sub: randomUUID(), role: 'admin' });
  const headers = () => ({ authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() });
  const direct = httpClient(running.ledger.url, CLIENTS);
  const gateway = httpClient(running.gateway.url, CLIENTS);
  const engine = ENGINE ? await startEngine(running) : undefined;
  statsClient = new pg.Client({ connectionString: running.postgresUrl });
  await statsClient.connect();
  const stats = statsClient;
  // Committed + rolled-back transactions of a database: with autocommit, about one per statement.
  // Backends report them at most once a second, so a short run's count is approximate.
  const transactions = (database: string) => async () => {
    const { rows } = await stats.query<{ n: string }>(
      'select xact_commit + xact_rollback as n from pg_stat_database where datname = $1',
      [database],
    );
    return Number(rows[0]?.n ?? Number.NaN);
  };
  const ledgerDatabase = new URL(running.ledgerDatabaseUrl).pathname.slice(1);
  const countersOf: Record<Target, Record<string, () => Promise<number>>> = {
    engine: engineDatabase ? { 'pg transactions': transactions(engineDatabase) } : {},
    direct: { 'pg transactions': transactions(ledgerDatabase) },
    gateway: { 'pg transactions': transactions(ledgerDatabase) },
  };

  const cpu = (processes: Record<string, number | undefined>) =>
    Object.fromEntries(
      Object.entries(processes).flatMap(([name, pid]) =>
        pid === undefined ? [] : [[name, () => (name === 'postgres' ? treeCpuMs(pid) : processCpuMs(pid))]],
      ),
    );
  const servers = { postgres: running.postgresPid, nats: running.natsPid };
  const cpuOf: Record<Target, Record<string, () => number>> = {
    engine: { ...cpu(servers), 'bench (engine + load)': ownCpuMs },
    direct: { ...cpu({ ledger: running.ledger.pid, ...servers }), 'bench (load)': ownCpuMs },
    gateway: {
      ...cpu({ gateway: running.gateway.pid, ledger: running.ledger.pid, ...servers }),
      'bench (load)': ownCpuMs,
    },
  };

  const settings = running.postgresSettings;
  console.log(
    `\nPOST ${PATH}: ${CLIENTS} clients, ${DURATION_MS} ms x ${ROUNDS} rounds per target, ` +
      `Postgres ${settings.server_version} (fsync=${settings.fsync}, synchronous_commit=${settings.synchronous_commit}), ` +
      `ledger and gateway NODE_ENV=development LOG_LEVEL=${LOG_LEVEL}${PROFILE ? ', CPU-profiled' : ''}, ` +
      `node ${process.version}, ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  // The servers inherit this environment: say which of the ledger's settings it changes.
  const overrides = Object.entries(process.env).filter(([name]) => name.startsWith('LEDGER_'));
  if (overrides.length)
    console.log(`ledger settings from the environment: ${overrides.map(([n, v]) => `${n}=${v}`).join(' ')}`);

  const summary: { kind: AdjustmentKind; medians: Record<Target, LoadResult | undefined> }[] = [];
  const windows: MeasuredWindow[] = [];
  for (const kind of KINDS) {
    const users = Array.from({ length: CLIENTS }, () => randomUUID());
    const engineUsers = Array.from({ length: CLIENTS }, () => randomUUID());
    if (kind === 'penalty') {
      say(
        `funding ${CLIENTS} users with ${running.adminMaxAmountMinor} minor units each (bonus adjustments)`,
      );
      await fundOverHttp(direct, headers, users, running.adminMaxAmountMinor);
      if (engine) await fundInEngine(engine, engineUsers, running.adminMaxAmountMinor);
    }
    const overHttp =
      (client: ReturnType<typeof httpClient>): Operation =>
      async (n) => {
        const answer = await client.post(PATH, headers(), {
          user_id: users[n]!,
          kind,
          amount: { amount: smallAmount(), currency: CURRENCY },
          reason: 'http benchmark',
        });
        if (answer.status >= 200 && answer.status < 300) return undefined;
        return `${answer.status} ${answer.body.slice(0, 300)}`;
      };
    const operations: Record<Target, Operation | undefined> = {
      engine: engine && inEngine(engine, engineUsers, kind),
      direct: overHttp(direct),
      gateway: overHttp(gateway),
    };
    const run = async (target: Target, durationMs: number, measured: boolean) => {
      const operation = operations[target];
      if (!operation) return undefined;
      await settle(running.ledger.pid);
      const result = await runLoad({
        clients: CLIENTS,
        durationMs,
        operation,
        ...(measured ? { cpu: cpuOf[target], counters: countersOf[target] } : {}),
      });
      assertAlive(running);
      if (measured) {
        windows.push({
          kind,
          target,
          window: result.window,
          operations: result.operations,
          cpuUs: result.cpuUs,
        });
      }
      return result;
    };

    console.log(`\n${describeKind(kind)}`);
    for (const target of TARGETS) await run(target, WARMUP_MS, false);
    const rounds: Record<Target, LoadResult | undefined>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const round = {} as Record<Target, LoadResult | undefined>;
      for (const target of TARGETS) round[target] = await run(target, DURATION_MS, true);
      rounds.push(round);
      const lines = TARGETS.flatMap((target) => {
        const result = round[target];
        return result ? [`${target.padEnd(7)} ${formatResult(result, target)}`] : [];
      });
      console.log(`  round ${i + 1}: ${lines.join('\n           ')}`);
      for (const target of TARGETS) {
        for (const sample of round[target]?.errorSamples ?? [])
          console.log(`           ${target} error: ${sample}`);
      }
    }
    const medians = Object.fromEntries(
      TARGETS.map((target) => [target, medianOf(rounds.flatMap((r) => (r[target] ? [r[target]] : [])))]),
    ) as Record<Target, LoadResult | undefined>;
    summary.push({ kind, medians });
  }

  direct.close();
  gateway.close();
  printSummary(summary);
  if (profileDir) {
    // The profiles are written when the servers exit.
    await cleanUp();
    await printProfiles(profileDir, windows);
  }
}

function describeKind(kind: AdjustmentKind): string {
  return kind === 'penalty'
    ? `penalty: user:<id>:available → platform:revenue, each client its own funded user (distinct debited accounts)`
    : `bonus: platform:promotions → user:<id>:available, every client debiting platform:promotions (one hot account)`;
}

const smallAmount = () => 1 + Math.floor(Math.random() * 100);

const SETTLE_MAX_MS = 20_000;

/**
 * Waits until the ledger has caught up on the last run's background work (projector, outcome
 * publisher, sealer): under a tenth of a core for 250 ms. Otherwise a run would pay for the one
 * before it, whichever target it drives.
 */
async function settle(ledgerPid: number): Promise<void> {
  const start = Date.now();
  for (;;) {
    const before = processCpuMs(ledgerPid);
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (processCpuMs(ledgerPid) - before < 25) return;
    if (Date.now() - start > SETTLE_MAX_MS) {
      say(`the ledger was still busy after ${SETTLE_MAX_MS} ms; running anyway`);
      return;
    }
  }
}

function assertAlive(running: Stack): void {
  for (const [name, server] of [
    ['ledger', running.ledger],
    ['gateway', running.gateway],
  ] as const) {
    const exit = server.exit();
    if (exit) throw new Error(`the ${name} ${exit} during the run; its last output:\n${server.tail()}`);
  }
}

async function fundOverHttp(
  client: ReturnType<typeof httpClient>,
  headers: () => Record<string, string>,
  users: string[],
  amount: number,
): Promise<void> {
  await Promise.all(
    users.map(async (user) => {
      const answer = await client.post(PATH, headers(), {
        user_id: user,
        kind: 'bonus',
        amount: { amount, currency: CURRENCY },
        reason: 'http benchmark funding',
      });
      if (answer.status !== 201) throw new Error(`funding ${user} failed: ${answer.status} ${answer.body}`);
    }),
  );
}

// ---- the engine alone, in this process, on a database of its own on the same server -------------

let engineDatabase: string | undefined;

async function startEngine(running: Stack): Promise<LedgerEngine> {
  engineDatabase = `ledger_engine_bench_${Date.now()}`;
  const url = await createDatabase(running.postgresUrl, engineDatabase);
  engineStore = await createPostgresEventStore({ db: url, poolSize: CLIENTS + 4, migrate: true });
  return createLedger(engineStore);
}

function adjustment(userId: string, kind: AdjustmentKind, amount: number) {
  return adjustmentTransfer({
    transferId: randomUUID(),
    userId,
    kind,
    amount,
    currency: CURRENCY,
    reason: 'engine benchmark',
    recordedBy: 'bench',
  });
}

async function fundInEngine(engine: LedgerEngine, users: string[], amount: number): Promise<void> {
  for (const user of users) {
    const outcome = await engine.transfer([adjustment(user, 'bonus', amount)]);
    if (!outcome.ok) throw new Error(`engine funding refused: ${JSON.stringify(outcome.rejection)}`);
  }
}

function inEngine(engine: LedgerEngine, users: string[], kind: AdjustmentKind): Operation {
  return async (n) => {
    const outcome = await engine.transfer([adjustment(users[n]!, kind, smallAmount())]);
    return outcome.ok ? undefined : JSON.stringify(outcome.rejection);
  };
}

// ---- output ----------------------------------------------------------------------------------------

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function formatResult(r: LoadResult, target: Target): string {
  const unit = target === 'engine' ? 'transfers/s' : 'req/s';
  const cpu = Object.entries(r.cpuUs)
    .map(([name, us]) => `${name} ${int(us)}`)
    .join(', ');
  const transactions = r.perOperation['pg transactions'];
  return (
    `${int(r.perSecond).padStart(6)} ${unit.padEnd(11)} p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99
      .toFixed(1)
      .padStart(6)} ms  ${r.errors} errors  CPU µs/op: ${cpu}` +
    (transactions === undefined ? '' : `  pg transactions/op ≈${transactions.toFixed(2)}`)
  );
}

/** Each figure's median over the rounds (they need not come from one round). */
function medianOf(results: LoadResult[]): LoadResult | undefined {
  if (results.length === 0) return undefined;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const pick = (field: 'perSecond' | 'p50' | 'p99') => median(results.map((r) => r[field]));
  return {
    operations: results.reduce((sum, r) => sum + r.operations, 0),
    perSecond: pick('perSecond'),
    p50: pick('p50'),
    p99: pick('p99'),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    errorSamples: [],
    cpuUs: Object.fromEntries(
      Object.keys(results[0]!.cpuUs).map((name) => [name, median(results.map((r) => r.cpuUs[name]!))]),
    ),
    perOperation: Object.fromEntries(
      Object.keys(results[0]!.perOperation).map((name) => [
        name,
        median(results.map((r) => r.perOperation[name]!)),
      ]),
    ),
    window: results[0]!.window,
  };
}

function printSummary(
  rows: { kind: AdjustmentKind; medians: Record<Target, LoadResult | undefined> }[],
): void {
  console.log(`\nMedians of ${ROUNDS} rounds (errors: total over the rounds):`);
  const header = [
    'kind',
    'target',
    'ops/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'vs engine',
    'vs direct',
    'pg transactions/op',
  ];
  const table: string[][] = [];
  for (const { kind, medians } of rows) {
    for (const target of TARGETS) {
      const r = medians[target];
      if (!r) continue;
      const ratio = (base: LoadResult | undefined) =>
        base && target !== 'engine' ? (r.perSecond / base.perSecond).toFixed(2) : '';
      table.push([
        kind,
        target,
        int(r.perSecond),
        r.p50.toFixed(1),
        r.p99.toFixed(1),
        String(r.errors),
        ratio(medians.engine),
        target === 'gateway' ? ratio(medians.direct) : '',
        r.perOperation['pg transactions']?.toFixed(2) ?? '',
      ]);
    }
  }
  printTable(header, table);

  console.log(`\nCPU per operation, µs (medians):`);
  const names = [
    ...new Set(rows.flatMap(({ medians }) => TARGETS.flatMap((t) => Object.keys(medians[t]?.cpuUs ?? {})))),
  ];
  const cpuTable: string[][] = [];
  for (const { kind, medians } of rows) {
    for (const target of TARGETS) {
      const r = medians[target];
      if (!r) continue;
      const total = Object.values(r.cpuUs).reduce((sum, us) => sum + us, 0);
      cpuTable.push([
        kind,
        target,
        ...names.map((name) => (r.cpuUs[name] === undefined ? '' : int(r.cpuUs[name]))),
        int(total),
      ]);
    }
  }
  printTable(['kind', 'target', ...names, 'total'], cpuTable);
  console.log(
    `\nops/s: transfers/s for the engine (createLedger on its own database, no HTTP, no projection wait), ` +
      `requests/s answered for direct and gateway (any non-2xx is an error). pg transactions/op: the ` +
      `database's xact_commit + xact_rollback over the run per operation (about one per statement; ` +
      `approximate, as backends report once a second). CPU of a process per operation ` +
      `is its /proc CPU time over the run divided by the operations answered; with ${os.cpus().length} CPUs ` +
      `the total bounds the throughput at about ${os.cpus().length}e6 / total ops/s.`,
  );
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

/** The main thread's profile: node names them CPU.<date>.<time>.<pid>.<thread id>.<seq>, the main thread 0. */
async function mainThreadProfile(dir: string): Promise<string | undefined> {
  const files = await readdir(dir).catch(() => []);
  const main = files.find((file) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(file));
  return main && path.join(dir, main);
}

interface MeasuredWindow {
  kind: AdjustmentKind;
  target: Target;
  window: LoadResult['window'];
  operations: number;
  cpuUs: Record<string, number>;
}

/**
 * Each server's profile over the measured rounds, by component. The sampler counts a thread busy
 * while it waits for a CPU too, so its shares are applied to the /proc CPU of those rounds.
 */
async function printProfiles(dir: string, windows: MeasuredWindow[]): Promise<void> {
  for (const [server, targets] of [
    ['ledger', ['direct', 'gateway']],
    ['gateway', ['gateway']],
  ] as const) {
    const file = await mainThreadProfile(path.join(dir, server));
    if (!file) {
      console.log(`\nno CPU profile was written for the ${server}`);
      continue;
    }
    for (const kind of KINDS) {
      const selected = windows.filter(
        (w) => w.kind === kind && (targets as readonly Target[]).includes(w.target),
      );
      const operations = selected.reduce((sum, w) => sum + w.operations, 0);
      const cpuUs =
        selected.reduce((sum, w) => sum + (w.cpuUs[server] ?? 0) * w.operations, 0) / Math.max(1, operations);
      const { busyMs, categories } = await profileBreakdown(
        file,
        selected.map((w) => w.window),
      );
      console.log(
        `\nThe ${server}'s CPU, ${kind}, ${targets.join(' + ')} rounds: ${int(cpuUs)} µs a request (/proc), by component:`,
      );
      for (const [name, ms] of categories.slice(0, 14)) {
        const share = ms / Math.max(busyMs, Number.MIN_VALUE);
        console.log(
          `  ${name.padEnd(34)} ${(100 * share).toFixed(1).padStart(5)} %  ≈${int(share * cpuUs).padStart(5)} µs`,
        );
      }
    }
  }
}

// Last: every module-level constant above is initialised by now.
try {
  await main();
} catch (error) {
  if (!interrupted) console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
} finally {
  await cleanUp();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
}
