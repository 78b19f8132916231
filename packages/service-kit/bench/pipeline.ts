/**
 * Benchmark of the event pipeline every service uses: a transaction writes events to
 * the outbox, the relay publishes them to JetStream, a consumer applies them through
 * the inbox. As in production, the consumer runs in another process than the producer
 * and its relay (a child process with its own pool and NATS connection). Prints:
 *  1. end to end: WRITERS concurrent writers commit EVENTS events, EVENTS_PER_TX per
 *     transaction, while the relay and the consumer run; time until all are handled;
 *  2. backlog: EVENTS events committed while the relay was stopped; time from starting
 *     it until all are handled (the pipeline alone, no producer competing);
 *  3. commit-to-handled latency of single events on an idle pipeline;
 *  4. how full the consumer's transactions were.
 *
 *   pnpm bench:pipeline   (EVENTS=20000 WRITERS=8 EVENTS_PER_TX=10 LATENCY_SAMPLES=300
 *                          BENCH_TRACING=1 BENCH_DURABLE=0)
 *
 * Postgres and NATS come from DATABASE_URL / NATS_URL, else local binaries; the embedded Postgres
 * runs with fsync off unless BENCH_DURABLE=1. Producer and consumer are traced as services are
 * (spans made, none exported) unless BENCH_TRACING=0.
 */
import { performance } from 'node:perf_hooks';
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEvent } from '@tessera/contracts';
import { resolveNats, resolvePostgres } from '@tessera/devstack';
import type { Kysely } from 'kysely';
import {
  appendToOutbox,
  type ConsumerStats,
  connectBus,
  createDatabase,
  createLogger,
  createTracing,
  ensureDatabase,
  inSpan,
  ensureStream,
  EventConsumer,
  type KitTables,
  migrateToLatest,
  OutboxRelay,
  SpanKind,
} from '../src/index.ts';
import { percentile } from '../src/testing/figures.ts';

// Traced as services are (spans made, none exported): each write transaction in a span, as a
// request's would be, each handler in a consumer span. BENCH_TRACING=0 leaves tracing out.
const traced = process.env.BENCH_TRACING !== '0';
const tracing = createTracing({ serviceName: 'bench', env: {} });

interface Setup {
  databaseUrl: string;
  natsUrl: string;
  prefix: string;
}
/** Consumer → producer: events handled (id, wall-clock ms), or the final stats. */
type Report = { handled: [string, number][] } | { stats: ConsumerStats } | { ready: true };

const now = () => performance.timeOrigin + performance.now();
const logger = createLogger({ name: 'bench', level: 'warn', pretty: false });

/** CPU seconds so far of this process and its descendants, by role (Linux /proc; empty elsewhere). */
type CpuByRole = Record<'producer' | 'consumer' | 'postgres' | 'nats' | 'other', number>;
const CLOCK_TICKS_PER_SECOND = 100;
function cpuByRole(consumerPid: number | undefined): CpuByRole | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const procs = new Map<number, { parent: number; comm: string; seconds: number }>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid ... utime stime are fields 14 and 15; comm may hold spaces.
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
      procs.set(Number(pid), {
        parent: Number(fields[1]),
        comm: stat.slice(stat.indexOf('(') + 1, close),
        seconds,
      });
    } catch {
      // exited meanwhile
    }
  }
  const total: CpuByRole = { producer: 0, consumer: 0, postgres: 0, nats: 0, other: 0 };
  for (const [pid, proc] of procs) {
    const ancestors: number[] = [];
    for (let at = pid; at > 1 && at !== process.pid; at = procs.get(at)?.parent ?? 0) ancestors.push(at);
    if (pid !== process.pid && !procs.has(ancestors.at(-1) ?? 0)) continue;
    if (pid !== process.pid && procs.get(ancestors.at(-1)!)?.parent !== process.pid) continue;
    const role: keyof CpuByRole =
      pid === process.pid
        ? 'producer'
        : consumerPid !== undefined && ancestors.includes(consumerPid)
          ? 'consumer'
          : proc.comm.startsWith('postgres')
            ? 'postgres'
            : proc.comm.startsWith('nats-server')
              ? 'nats'
              : 'other';
    total[role] += proc.seconds;
  }
  return total;
}
/** Microseconds of CPU per event, by role, between two readings. */
function cpuPerEvent(before: CpuByRole | undefined, after: CpuByRole | undefined, events: number): string {
  if (!before || !after) return 'n/a (no /proc)';
  const roles = Object.keys(after) as (keyof CpuByRole)[];
  const us = (role: keyof CpuByRole) => ((after[role] - before[role]) / events) * 1e6;
  const total = roles.reduce((sum, role) => sum + us(role), 0);
  return `${total.toFixed(0)} us/event (${roles
    .filter((role) => us(role) > 0)
    .map((role) => `${role} ${us(role).toFixed(0)}`)
    .join(', ')})`;
}

const CONSUMER_SETUP = 'BENCH_CONSUMER_SETUP';
if (process.env[CONSUMER_SETUP]) await consumerProcess(JSON.parse(process.env[CONSUMER_SETUP]) as Setup);
else await producer();

async function consumerProcess({ databaseUrl, natsUrl, prefix }: Setup): Promise<void> {
  const db = createDatabase<KitTables>(databaseUrl, { max: 4 });
  const bus = await connectBus({ url: natsUrl, name: 'bench-consumer', prefix });
  const handled: [string, number][] = [];
  const report = (message: Report) => process.send!(message);
  const consumer = new EventConsumer<KitTables>({
    name: 'bench',
    producer: 'diagnostics',
    db,
    bus,
    logger,
    ...(traced ? { tracing } : {}),
    handlers: {
      'diagnostics.probe.recorded.v1': async (event) => {
        if (handled.length === 0) setImmediate(() => report({ handled: handled.splice(0) }));
        handled.push([event.id, now()]);
      },
    },
  });
  process.on('message', (message: string) => {
    if (message === 'stats') {
      report({ stats: consumer.stats() });
      return;
    }
    void (async () => {
      await consumer.stop();
      report({ stats: consumer.stats() });
      await bus.close();
      await db.destroy();
      process.disconnect();
    })();
  });
  await consumer.start();
  report({ ready: true });
}

async function producer(): Promise<void> {
  const EVENTS = Number(process.env.EVENTS ?? 20_000);
  const WRITERS = Number(process.env.WRITERS ?? 8);
  const EVENTS_PER_TX = Number(process.env.EVENTS_PER_TX ?? 10);
  const LATENCY_SAMPLES = Number(process.env.LATENCY_SAMPLES ?? 300);

  const durable = process.env.BENCH_DURABLE === '1';
  // initdb runs as the postgres user: a folder of its own under the temporary directory.
  const dataDir = durable ? mkdtempSync(path.join(os.tmpdir(), 'bench-pipeline-pg-')) : undefined;
  const postgres = await resolvePostgres({ containers: false, persistent: durable, dataDir });
  const nats = await resolveNats({ containers: false });
  const url = new URL(postgres.url);
  url.pathname = `/bench_${Date.now()}`;
  await ensureDatabase(url.toString());
  const db = createDatabase<KitTables>(url.toString(), { max: WRITERS + 4 });
  await migrateToLatest(db as Kysely<unknown>);
  const setup: Setup = { databaseUrl: url.toString(), natsUrl: nats.url, prefix: `bench${Date.now()}` };
  const bus = await connectBus({ url: nats.url, name: 'bench', prefix: setup.prefix });
  await ensureStream(bus, 'diagnostics');

  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  let handled = 0;
  let onHandled: (() => void) | undefined;
  let stats: ConsumerStats | undefined;
  let consumerReady!: () => void;
  const ready = new Promise<void>((resolve) => (consumerReady = resolve));
  // This file again, under the same loader (fork passes on process.execArgv).
  const consumer = fork(fileURLToPath(import.meta.url), {
    env: { ...process.env, [CONSUMER_SETUP]: JSON.stringify(setup) },
  });
  consumer.on('message', (message: Report) => {
    if ('ready' in message) {
      consumerReady();
      return;
    }
    if ('stats' in message) {
      stats = message.stats;
      return;
    }
    for (const [id, at] of message.handled) {
      const committed = committedAt.get(id);
      if (committed !== undefined) latencies.push(at - committed);
    }
    handled += message.handled.length;
    onHandled?.();
  });
  const relay = new OutboxRelay({ db, bus, logger, databaseUrl: url.toString() });
  relay.start();

  let written = 0;
  async function writeTransaction(size: number): Promise<void> {
    const events = Array.from({ length: size }, () => {
      const i = written++;
      return buildEvent('diagnostics.probe.recorded.v1', { probe_id: `p${i}` }, { subject: `p${i}` });
    });
    const write = () => db.transaction().execute((trx) => appendToOutbox(trx, events));
    await (traced ? inSpan(tracing, 'write', { kind: SpanKind.SERVER }, write) : write());
    const at = now();
    for (const event of events) committedAt.set(event.id, at);
  }

  /** WRITERS concurrent writers commit `count` more events, EVENTS_PER_TX per transaction. */
  async function writeConcurrently(count: number): Promise<void> {
    const target = written + count;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (written < target) await writeTransaction(Math.min(EVENTS_PER_TX, target - written));
      }),
    );
  }

  function consumerStats(): Promise<ConsumerStats> {
    stats = undefined;
    consumer.send('stats');
    return new Promise((resolve) => {
      const poll = () => (stats ? resolve(stats) : setTimeout(poll, 5));
      poll();
    });
  }

  function untilHandled(target: number): Promise<void> {
    return new Promise((resolve) => {
      onHandled = () => handled >= target && resolve();
      onHandled();
    });
  }

  const perSecond = (events: number, ms: number) => Math.round(events / (ms / 1000));

  // 1. End to end, producers and pipeline running together (the consumer process started first:
  // its start, mostly compiling modules, is no part of the pipeline's throughput).
  await ready;
  const cpu0 = cpuByRole(consumer.pid);
  const t0 = performance.now();
  await writeConcurrently(EVENTS);
  const writeMs = performance.now() - t0;
  await untilHandled(written);
  const endToEndMs = performance.now() - t0;
  const cpu1 = cpuByRole(consumer.pid);

  // 2. A backlog committed while the relay was stopped, then drained.
  const e2eStats = await consumerStats();
  await relay.stop();
  const cpu1b = cpuByRole(consumer.pid);
  const tb = performance.now();
  await writeConcurrently(EVENTS);
  const backlogWriteMs = performance.now() - tb;
  const cpu2 = cpuByRole(consumer.pid);
  const t1 = performance.now();
  relay.start();
  await untilHandled(written);
  const backlogMs = performance.now() - t1;
  const cpu3 = cpuByRole(consumer.pid);

  // 3. Latency: one event at a time, idle pipeline in between.
  latencies.length = 0;
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const target = handled + 1;
    await writeTransaction(1);
    await untilHandled(target);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => percentile(sorted, p / 100).toFixed(1);

  consumer.send('stop');
  await new Promise((resolve) => consumer.once('exit', resolve));
  const { transactions, events, largestBatch, fallbacks } = stats!;

  console.log(
    `postgres: ${postgres.source} (${durable ? 'fsync on' : 'fsync off'}), nats: ${nats.source}, ` +
      `node ${process.version}, ${traced ? 'traced' : 'not traced (BENCH_TRACING=0)'}`,
  );
  console.log(
    `outbox writes: ${EVENTS} events by ${WRITERS} writers, ${EVENTS_PER_TX} per transaction, in ${(writeMs / 1000).toFixed(2)} s = ${perSecond(EVENTS, writeMs)} events/s`,
  );
  console.log(
    `end to end (commit -> relay -> JetStream -> inbox -> handler), writers running: ${perSecond(EVENTS, endToEndMs)} events/s`,
  );
  console.log(`  CPU, end to end (writers included): ${cpuPerEvent(cpu0, cpu1, EVENTS)}`);
  console.log(
    `  consumer transactions end to end: ${e2eStats.transactions} for ${e2eStats.events} events, mean ${(e2eStats.events / e2eStats.transactions).toFixed(1)}`,
  );
  console.log(
    `outbox writes with the relay stopped (the backlog): ${perSecond(EVENTS, backlogWriteMs)} events/s`,
  );
  console.log(
    `backlog of ${EVENTS} committed events drained (relay -> JetStream -> inbox -> handler): ${perSecond(EVENTS, backlogMs)} events/s`,
  );
  console.log(`  CPU, writes alone: ${cpuPerEvent(cpu1b, cpu2, EVENTS)}`);
  console.log(`  CPU, backlog drain: ${cpuPerEvent(cpu2, cpu3, EVENTS)}`);
  console.log(
    `latency commit -> handled, ${sorted.length} samples: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms`,
  );
  console.log(
    `consumer transactions: ${transactions} for ${events} events, largest ${largestBatch}, mean ${(events / transactions).toFixed(1)}, fallbacks ${fallbacks}`,
  );

  await relay.stop();
  await bus.close();
  await db.destroy();
  await nats.stop();
  await postgres.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
