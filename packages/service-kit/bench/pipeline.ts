/**
 * Benchmark of the event pipeline every service uses: a transaction writes an
 * event to the outbox, the relay publishes it to JetStream, a consumer applies
 * it through the inbox. Prints throughput and commit-to-handled latency.
 *
 *   pnpm bench:pipeline            (EVENTS=5000 WRITERS=8 LATENCY_SAMPLES=300)
 *
 * Postgres and NATS come from DATABASE_URL / NATS_URL, else local binaries.
 */
import { performance } from 'node:perf_hooks';
import { buildEvent } from '@tessera/contracts';
import { resolveNats, resolvePostgres } from '@tessera/devstack';
import type { Kysely } from 'kysely';
import {
  appendToOutbox,
  connectBus,
  createDatabase,
  createLogger,
  ensureDatabase,
  ensureStream,
  EventConsumer,
  type KitTables,
  migrateToLatest,
  OutboxRelay,
} from '../src/index.ts';

const EVENTS = Number(process.env.EVENTS ?? 5_000);
const WRITERS = Number(process.env.WRITERS ?? 8);
const LATENCY_SAMPLES = Number(process.env.LATENCY_SAMPLES ?? 300);

const postgres = await resolvePostgres({ containers: false });
const nats = await resolveNats({ containers: false });
const url = new URL(postgres.url);
url.pathname = `/bench_${Date.now()}`;
await ensureDatabase(url.toString());
const db = createDatabase<KitTables>(url.toString(), { max: WRITERS + 4 });
await migrateToLatest(db as Kysely<unknown>);
const bus = await connectBus({ url: nats.url, name: 'bench', prefix: `bench${Date.now()}` });
await ensureStream(bus, 'diagnostics');
const logger = createLogger({ name: 'bench', level: 'warn', pretty: false });

const committedAt = new Map<string, number>();
const latencies: number[] = [];
let handled = 0;
let onHandled: (() => void) | undefined;

const consumer = new EventConsumer<KitTables>({
  name: 'bench',
  producer: 'diagnostics',
  db,
  bus,
  logger,
  handlers: {
    'diagnostics.probe.recorded.v1': async (event) => {
      const started = committedAt.get(event.id);
      if (started !== undefined) latencies.push(performance.now() - started);
      handled += 1;
      onHandled?.();
    },
  },
});
const relay = new OutboxRelay({ db, bus, logger, databaseUrl: url.toString() });
await consumer.start();
relay.start();

async function writeOne(i: number): Promise<void> {
  const event = buildEvent('diagnostics.probe.recorded.v1', { probe_id: `p${i}` }, { subject: `p${i}` });
  await db.transaction().execute((trx) => appendToOutbox(trx, [event]));
  committedAt.set(event.id, performance.now());
}

function untilHandled(target: number): Promise<void> {
  return new Promise((resolve) => {
    onHandled = () => handled >= target && resolve();
    onHandled();
  });
}

// Throughput: WRITERS concurrent writers, one event per transaction.
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: WRITERS }, async () => {
    while (next < EVENTS) await writeOne(next++);
  }),
);
const written = performance.now() - t0;
await untilHandled(EVENTS);
const total = performance.now() - t0;

// Latency: one event at a time, idle pipeline in between.
latencies.length = 0;
for (let i = 0; i < LATENCY_SAMPLES; i++) {
  const target = handled + 1;
  await writeOne(EVENTS + i);
  await untilHandled(target);
}
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);

console.log(`postgres: ${postgres.source}, nats: ${nats.source}, node ${process.version}`);
console.log(
  `outbox writes: ${EVENTS} events by ${WRITERS} writers in ${(written / 1000).toFixed(2)} s = ${Math.round(EVENTS / (written / 1000))} events/s`,
);
console.log(
  `end to end (commit -> relay -> JetStream -> inbox -> handler): ${Math.round(EVENTS / (total / 1000))} events/s`,
);
console.log(
  `latency commit -> handled, ${sorted.length} samples: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms`,
);

await relay.stop();
await consumer.stop();
await bus.close();
await db.destroy();
await nats.stop();
await postgres.stop();
