import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { percentile } from '../../../packages/service-kit/src/testing/figures.ts';

export { percentile };

// What every scenario measures: latencies, errors, and the machine's CPU while it ran.

/** The machine's CPU time so far (all cores), from /proc/stat, in ticks. */
function cpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface CpuWindow {
  /** The machine's busy share over the window (all cores), in %; the 1-minute load average at its end. */
  end(): { busyPct: number; load1: number };
}

export function cpuWindow(): CpuWindow {
  const start = cpuTicks();
  return {
    end() {
      const now = cpuTicks();
      const total = now.total - start.total;
      return {
        busyPct: total > 0 ? ((now.busy - start.busy) / total) * 100 : 0,
        load1: loadavg()[0]!,
      };
    },
  };
}

/** What a process is, for the CPU breakdown: a service, the gateway, postgres, nats, this driver. */
function processLabel(pid: number): string | undefined {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (comm === 'postgres') {
      // A backend's title is "postgres: <user> <database> <client> <activity>": name its database.
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const database = /^postgres: \S+ (\S+) (?:\[local\]|[\d.:a-f]+\(\d+\))/.exec(title)?.[1];
      return database ? `postgres/${database.replace(/^tessera_/, '')}` : 'postgres/other';
    }
    if (comm === 'nats-server') return 'nats';
    if (pid === process.pid) return 'load driver';
    const where = `${readFileSync(`/proc/${pid}/cmdline`, 'utf8')} ${readlinkSync(`/proc/${pid}/cwd`)}/`;
    const service = /\/services\/([a-z-]+)\//.exec(where)?.[1];
    if (service) return service;
    if (where.includes('/infra/gateway/')) return 'gateway';
    if (where.includes('/infra/local/')) return 'local runner';
    return undefined;
  } catch {
    return undefined; // gone, or not ours to read
  }
}

/** CPU ticks (user + system) of every labelled process now, by pid. */
function processTicks(): Map<number, { label: string; ticks: number }> {
  const found = new Map<number, { label: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const label = processLabel(pid);
    if (!label) continue;
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      found.set(pid, { label, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * CPU time spent by each kind of process over a window, in ms (from /proc/<pid>/stat; a process
 * that started during the window counts from zero, one that ended is missed).
 */
export function processCpuWindow(): { end(): Map<string, number> } {
  const start = processTicks();
  const tickMs = 10; // USER_HZ is 100 on Linux
  return {
    end() {
      const spent = new Map<string, number>();
      for (const [pid, { label, ticks }] of processTicks()) {
        const before = start.get(pid)?.label === label ? start.get(pid)!.ticks : 0;
        spent.set(label, (spent.get(label) ?? 0) + (ticks - before) * tickMs);
      }
      return spent;
    },
  };
}

/** One line of the report. */
export interface Row {
  scenario: string;
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  target: string;
  /** Whether the target was met; null where there is none. */
  met: boolean | null;
  cpuPct: number;
  load1: number;
  /** What else the reader needs (retries, ratio, …). */
  note?: string;
}

export type StepOutcome = 'ok' | 'error' | 'done';

export interface LoopResult {
  latencies: number[];
  errors: number;
  elapsedMs: number;
  /** Error descriptions, the first few. */
  samples: string[];
}

/** One timed request of a loop; 'done' says its worker ran out of work. */
export interface Step {
  outcome: StepOutcome;
  ms: number;
  error?: string;
}

/**
 * `workers` loops side by side for `seconds` (closed loop: each sends its next request when the last
 * answer is in). `step` makes one timed request; 'done' stops that worker (it ran out of work).
 */
export async function closedLoop(
  workers: number,
  seconds: number,
  step: (worker: number) => Promise<Step>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const samples: string[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < deadline) {
        const { outcome, ms, error } = await step(worker);
        if (outcome === 'done') return;
        latencies.push(ms);
        if (outcome === 'error') {
          errors += 1;
          if (samples.length < 5 && error) samples.push(error);
        }
      }
    }),
  );
  return { latencies, errors, elapsedMs: performance.now() - started, samples };
}

/**
 * An open loop: request i starts `i / rate` seconds after the first, whatever became of those before
 * it, on worker `i % workers`, for `seconds`; then the ones in flight are awaited. A slow answer
 * never delays the requests after it. Latencies are timed from each request's actual start: if the
 * driver itself falls behind its schedule, that time is not counted, so how far behind it fell is
 * reported (`maxStartLagMs`). A worker that answers 'done' gets no more turns (`skipped`); a step
 * that throws counts as an error.
 */
export async function pacedLoop(
  workers: number,
  rate: number,
  seconds: number,
  step: (worker: number) => Promise<Step>,
): Promise<LoopResult & { maxStartLagMs: number; skipped: number }> {
  if (!(rate > 0) || !(workers > 0)) throw new RangeError(`a paced loop needs a rate and workers above 0`);
  const latencies: number[] = [];
  const samples: string[] = [];
  let errors = 0;
  let skipped = 0;
  let maxStartLagMs = 0;
  const done = new Set<number>();
  const inFlight: Promise<void>[] = [];
  const failed = (error: string) => {
    errors += 1;
    if (samples.length < 5) samples.push(error);
  };
  const started = performance.now();
  const count = Math.floor(seconds * rate);
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    // Always yield, so that what finished meanwhile (a worker's 'done') is known before its next turn.
    await new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
    const worker = i % workers;
    if (done.has(worker)) {
      skipped += 1;
      continue;
    }
    maxStartLagMs = Math.max(maxStartLagMs, performance.now() - due);
    const t0 = performance.now();
    inFlight.push(
      step(worker).then(
        ({ outcome, ms, error }) => {
          if (outcome === 'done') {
            done.add(worker);
            skipped += 1;
            return;
          }
          latencies.push(ms);
          if (outcome === 'error') failed(error ?? 'error');
        },
        (error: unknown) => {
          latencies.push(performance.now() - t0);
          failed(error instanceof Error ? error.message : String(error));
        },
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies, errors, elapsedMs: performance.now() - started, samples, maxStartLagMs, skipped };
}

export function rowOf(
  scenario: string,
  result: { latencies: number[]; errors: number; elapsedMs: number },
  cpu: { busyPct: number; load1: number },
  target: string,
  met: (row: Row) => boolean | null,
  note?: string,
): Row {
  const sorted = [...result.latencies].sort((a, b) => a - b);
  const row: Row = {
    scenario,
    requests: sorted.length,
    seconds: result.elapsedMs / 1000,
    rps: sorted.length / (result.elapsedMs / 1000),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors: result.errors,
    target,
    met: null,
    cpuPct: cpu.busyPct,
    load1: cpu.load1,
    ...(note ? { note } : {}),
  };
  row.met = met(row);
  return row;
}

export function formatTable(rows: readonly Row[]): string {
  const header = [
    'scenario',
    'requests',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'target',
    'verdict',
    'CPU busy',
    'load1',
  ];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.requests),
    r.rps.toFixed(1),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    String(r.errors),
    r.target,
    r.met === null ? '-' : r.met ? 'met' : 'MISSED',
    `${r.cpuPct.toFixed(0)}%`,
    r.load1.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.scenario}: ${r.note}`);
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt), ...notes].join('\n');
}

/** One statement's figures from pg_stat_statements, with the database it ran in. */
export interface StatementFigures {
  database: string;
  calls: number;
  /** Total execution time, lock waits included. */
  ms: number;
  query: string;
}

/**
 * Where the statements of `approvals` approvals went: per database, statements and execution time
 * per approval (most statements first), then the `top` statements by execution time. A statement
 * slow for waiting on a lock shows in the second list, not the first.
 */
export function statementsPerApproval(
  statements: readonly StatementFigures[],
  approvals: number,
  top = 5,
): string[] {
  const per = (n: number) => n / Math.max(1, approvals);
  const byDatabase = new Map<string, { calls: number; ms: number }>();
  for (const s of statements) {
    const sum = byDatabase.get(s.database) ?? { calls: 0, ms: 0 };
    byDatabase.set(s.database, { calls: sum.calls + s.calls, ms: sum.ms + s.ms });
  }
  const all = [...byDatabase.values()].reduce((sum, d) => sum + d.calls, 0);
  const shortQuery = (q: string) => q.replace(/\s+/g, ' ').slice(0, 110);
  return [
    `Statements per approval (pg_stat_statements, ${per(all).toFixed(1)} in all): ` +
      [...byDatabase.entries()]
        .sort((a, b) => b[1].calls - a[1].calls)
        .map(([db, d]) => `${db} ${per(d.calls).toFixed(1)} (${per(d.ms).toFixed(1)} ms)`)
        .join(', '),
    `  the ${top} statements with the most execution time per approval (lock waits included):`,
    ...[...statements]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map(
        (s) =>
          `    ${per(s.ms).toFixed(1).padStart(7)} ms  ${per(s.calls).toFixed(2).padStart(5)}×  ${s.database}: ${shortQuery(s.query)}`,
      ),
  ];
}
