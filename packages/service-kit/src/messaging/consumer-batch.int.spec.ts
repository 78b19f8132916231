import { buildEvent, streamFor, subjectFor, type TesseraEvent } from '@tessera/contracts';
import { type Generated, type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../db/database.ts';
import type { KitTables } from '../db/kit-migrations.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createLogger } from '../logger.ts';
import { createTestDatabase, testPrefix, waitFor, waitForHandled } from '../testing/index.ts';
import { type Bus, connectBus, ensureStream } from './bus.ts';
import { EventConsumer, type EventConsumerOptions } from './consumer.ts';

interface TestDB extends KitTables {
  probe_effects: { probe_id: string; applied: number };
  probe_log: { seq: Generated<string>; probe_id: string };
}

const CONSUMER = 'batch-counter';
const logger = createLogger({
  name: 'consumer-batch-test',
  level: process.env.TEST_LOG_LEVEL ?? 'silent',
  pretty: false,
});
let db: Kysely<TestDB>;
let bus: Bus;
let drop: () => Promise<void>;
const running: EventConsumer<TestDB>[] = [];

/** Counts how many times each probe was applied and logs the order of application. */
const countProbe: EventConsumerOptions<TestDB>['handlers'] = {
  'diagnostics.probe.recorded.v1': async (event, trx) => {
    if (event.data.note === 'fail') throw new Error(`cannot apply ${event.data.probe_id}`);
    await trx.insertInto('probe_log').values({ probe_id: event.data.probe_id }).execute();
    await trx
      .insertInto('probe_effects')
      .values({ probe_id: event.data.probe_id, applied: 1 })
      .onConflict((oc) => oc.column('probe_id').doUpdateSet({ applied: sql`probe_effects.applied + 1` }))
      .execute();
  },
};

async function startConsumer(overrides: Partial<EventConsumerOptions<TestDB>> = {}) {
  const consumer = new EventConsumer<TestDB>({
    name: CONSUMER,
    producer: 'diagnostics',
    handlers: countProbe,
    db,
    bus,
    logger,
    backoffMs: [50],
    ...overrides,
  });
  await consumer.start();
  running.push(consumer);
  return consumer;
}

const probe = (probe_id: string, note?: string): TesseraEvent =>
  buildEvent('diagnostics.probe.recorded.v1', note ? { probe_id, note } : { probe_id }, {
    subject: probe_id,
  });

async function publish(event: TesseraEvent | string, msgID?: string) {
  const type = typeof event === 'string' ? 'diagnostics.probe.recorded.v1' : event.type;
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  await bus.js.publish(subjectFor(type, bus.ns), body, msgID ? { msgID } : {});
}

/** probe id → times applied, for every probe applied at least once. */
async function appliedCounts(): Promise<Record<string, number>> {
  const rows = await db.selectFrom('probe_effects').selectAll().execute();
  return Object.fromEntries(rows.map((r) => [r.probe_id, r.applied]));
}

async function applicationOrder(): Promise<string[]> {
  const rows = await db.selectFrom('probe_log').select('probe_id').orderBy('seq').execute();
  return rows.map((r) => r.probe_id);
}

/** Every message delivered was acked, and nothing is left to deliver. */
async function drained(): Promise<void> {
  const stream = streamFor('diagnostics', bus.ns).name;
  await waitFor(
    async () => {
      const info = await bus.jsm.consumers.info(stream, CONSUMER);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    },
    { timeoutMs: 10_000, what: 'every message to be acked' },
  );
}

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
const once = (probeIds: string[]) => Object.fromEntries(probeIds.map((id) => [id, 1]));

beforeAll(async () => {
  const database = await createTestDatabase('consumer_batch');
  drop = database.drop;
  db = createDatabase<TestDB>(database.url);
  await migrateToLatest(db as Kysely<unknown>);
  await sql`create table probe_effects (probe_id text primary key, applied int not null)`.execute(db);
  await sql`create table probe_log (seq bigserial primary key, probe_id text not null)`.execute(db);
});

beforeEach(async () => {
  bus = await connectBus({ url: inject('natsUrl'), name: 'consumer-batch-test', prefix: testPrefix() });
  await ensureStream(bus, 'diagnostics');
});

afterEach(async () => {
  for (const consumer of running.splice(0)) await consumer.stop();
  await bus.close();
  await db.deleteFrom('probe_effects').execute();
  await db.deleteFrom('probe_log').execute();
  await db.deleteFrom('dead_letters').execute();
  await db.deleteFrom('inbox').execute();
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

describe('event consumer, many events per transaction', () => {
  it('applies what has arrived together in one transaction, each event once, in stream order', async () => {
    // Published before the consumer starts: they arrive together.
    const probes = ids('ordered', 60);
    for (const id of probes) await publish(probe(id));
    const consumer = await startConsumer({ batchSize: 25 });
    await drained();

    expect(await applicationOrder()).toEqual(probes);
    expect(await appliedCounts()).toEqual(once(probes));
    const stats = consumer.stats();
    expect(stats.events).toBe(60);
    expect(stats.largestBatch).toBeGreaterThan(1);
    expect(stats.largestBatch).toBeLessThanOrEqual(25);
    expect(stats.transactions).toBeLessThan(60);
    expect(stats.fallbacks).toBe(0);
  });

  it('runs the lanes of a batch side by side, each lane in stream order, when a partition key is given', async () => {
    const lanes = ['a', 'b', 'c', 'd'];
    const probes = lanes
      .flatMap((lane) => ids(`lane-${lane}`, 5))
      .sort((x, y) => x.at(-1)!.localeCompare(y.at(-1)!));
    for (const id of probes) await publish(probe(id));
    let inFlight = 0;
    let overlap = 0;
    const consumer = await startConsumer({
      partitionKey: (event) => String((event.data as { probe_id: string }).probe_id).split('-')[1],
      handlers: {
        'diagnostics.probe.recorded.v1': async (event, trx) => {
          inFlight += 1;
          overlap = Math.max(overlap, inFlight);
          // Work outside the transaction (the ledger's engine): this is what lanes overlap.
          await new Promise((resolve) => setTimeout(resolve, 10));
          inFlight -= 1;
          await trx.insertInto('probe_log').values({ probe_id: event.data.probe_id }).execute();
        },
      },
    });
    await drained();

    const order = await applicationOrder();
    expect(order.toSorted()).toEqual(probes.toSorted());
    for (const lane of lanes) {
      expect(order.filter((id) => id.startsWith(`lane-${lane}-`))).toEqual(ids(`lane-${lane}`, 5));
    }
    expect(consumer.stats().largestBatch).toBeGreaterThan(1);
    expect(overlap).toBeGreaterThan(1);
  });

  it('dead-letters a failing event of a batch alone; the others are applied once, in order', async () => {
    const before = ids('before', 5);
    const after = ids('after', 5);
    const poison = probe('poison', 'fail');
    for (const id of before) await publish(probe(id));
    await publish(poison);
    for (const id of after) await publish(probe(id));
    const consumer = await startConsumer({ maxDeliver: 2, backoffMs: [50] });

    const letter = await waitFor(() =>
      db.selectFrom('dead_letters').selectAll().where('event_id', '=', poison.id).executeTakeFirst(),
    );
    await drained();
    expect(letter).toMatchObject({ error_code: 'HANDLER_FAILED', deliveries: 2, consumer: CONSUMER });
    expect(letter.error).toContain('cannot apply poison');
    expect(await appliedCounts()).toEqual(once([...before, ...after]));
    expect(await applicationOrder()).toEqual([...before, ...after]);
    // The batch holding the poison failed as a whole, then its events went one by one.
    const stats = consumer.stats();
    expect(stats.fallbacks).toBeGreaterThanOrEqual(1);
    expect(await db.selectFrom('dead_letters').select('id').execute()).toHaveLength(1);
  });

  it('runs beforeCommit once per transaction, after its handlers, with the events it applied', async () => {
    const good = ids('commit', 8);
    // Waiting before the consumer starts: one batch.
    for (const id of good.slice(0, 4)) await publish(probe(id));
    const calls: Array<{ probes: string[]; logged: number }> = [];
    const options: Partial<EventConsumerOptions<TestDB>> = {
      maxDeliver: 1,
      beforeCommit: async (trx, events) => {
        // Inside the transaction: it sees what the handlers wrote, before anyone else can.
        const { logged } = await trx
          .selectFrom('probe_log')
          .select((eb) => eb.fn.countAll<string>().as('logged'))
          .executeTakeFirstOrThrow();
        calls.push({
          probes: events.map((e) => (e.data as { probe_id: string }).probe_id),
          logged: Number(logged),
        });
      },
    };
    const first = await startConsumer(options);
    await drained();
    expect(calls.flatMap((c) => c.probes)).toEqual(good.slice(0, 4));
    expect(calls.length).toBe(first.stats().transactions);
    expect(first.stats().largestBatch).toBeGreaterThan(1);
    await first.stop();

    // A batch that fails goes one event at a time: each of those transactions runs it too.
    await publish(probe('poison-2', 'fail'));
    for (const id of good.slice(4)) await publish(probe(id));
    const second = await startConsumer(options);
    await drained();
    expect(second.stats().fallbacks).toBeGreaterThanOrEqual(1);
    expect(await applicationOrder()).toEqual(good);
    // Each committed transaction ran it once, with its own events, after its handlers' writes.
    expect(calls.flatMap((c) => c.probes)).toEqual(good);
    expect(calls.length).toBe(first.stats().transactions + second.stats().transactions);
    let logged = 0;
    for (const call of calls) {
      logged += call.probes.length;
      expect(call.logged).toBe(logged);
    }
  });

  it('settles malformed, invalid and misplaced messages alone without failing the batch around them', async () => {
    const good = ids('good', 6);
    await publish(probe(good[0]!));
    await publish(probe(good[1]!));
    await publish('{not json');
    await publish(probe(good[2]!));
    await publish(JSON.stringify({ ...probe('bad-data'), data: { probe_id: 7 } }));
    await publish(probe(good[3]!));
    await bus.js.publish(
      subjectFor('diagnostics.probe.forged.v1', bus.ns),
      JSON.stringify(probe('misplaced')),
    );
    await publish(probe(good[4]!));
    await publish(probe(good[5]!));
    const consumer = await startConsumer();
    await drained();

    expect(await applicationOrder()).toEqual(good);
    const letters = await db.selectFrom('dead_letters').selectAll().orderBy('id').execute();
    expect(letters.map((l) => l.error_code)).toEqual(['MALFORMED_JSON', 'INVALID_DATA', 'WRONG_PROVENANCE']);
    expect(letters.every((l) => l.deliveries === 1)).toBe(true);
    const stats = consumer.stats();
    expect(stats.fallbacks).toBe(0);
    expect(stats.largestBatch).toBeGreaterThan(1);
  });

  it('does not apply again an event already in the inbox, nor one carried twice by the same batch', async () => {
    const earlier = probe('earlier');
    await publish(earlier);
    const first = await startConsumer();
    await waitForHandled(db, CONSUMER, earlier.id);
    await drained();
    await running.pop()!.stop();
    expect(first.stats().events).toBe(1);

    // A producer that retried past the de-duplication window: the same events, new messages.
    const twice = probe('twice');
    const around = ids('around', 6);
    await publish(probe(around[0]!));
    await publish(earlier, 'earlier-again');
    await publish(probe(around[1]!));
    await publish(twice, 'twice-first');
    await publish(probe(around[2]!));
    await publish(twice, 'twice-second');
    for (const id of around.slice(3)) await publish(probe(id));
    const consumer = await startConsumer();
    await drained();

    expect(await appliedCounts()).toEqual(once(['earlier', 'twice', ...around]));
    expect(await applicationOrder()).toEqual(['earlier', around[0], around[1], 'twice', ...around.slice(2)]);
    expect(consumer.stats().largestBatch).toBeGreaterThan(1);
    expect(consumer.stats().fallbacks).toBe(0);
  });

  /**
   * Two consumers whose handlers lock the same two rows in opposite orders, pausing between them,
   * on the same event: their transactions cross. Answers how many times each handler ran.
   */
  async function crossedLocks(lockFirst: boolean): Promise<Record<string, number>> {
    const keys = ['key-1', 'key-2'];
    await db
      .insertInto('probe_effects')
      .values(keys.map((probe_id) => ({ probe_id, applied: 0 })))
      .execute();
    const calls: Record<string, number> = {};
    const lockRow = (trx: Kysely<TestDB>, key: string) =>
      sql`select 1 from probe_effects where probe_id = ${key} for update`.execute(trx);
    const locking = (name: string, order: string[]) =>
      startConsumer({
        name,
        handlers: {
          'diagnostics.probe.recorded.v1': async (_event, trx) => {
            calls[name] = (calls[name] ?? 0) + 1;
            await lockRow(trx, order[0]!);
            await new Promise((resolve) => setTimeout(resolve, 400));
            await lockRow(trx, order[1]!);
          },
        },
        ...(lockFirst
          ? {
              lockFirst: async (trx) => {
                await sql`select 1 from probe_effects where probe_id = any(${keys}::text[]) order by probe_id for update`.execute(
                  trx,
                );
              },
            }
          : {}),
      });
    await locking('locks-forward', keys);
    await locking('locks-backward', keys.toReversed());
    await publish(probe('crossed'));
    await waitFor(
      async () => {
        const rows = await db
          .selectFrom('inbox')
          .select('consumer')
          .where('consumer', 'like', 'locks-%')
          .execute();
        return rows.length === 2;
      },
      { timeoutMs: 15_000, what: 'both consumers to apply the event' },
    );
    return calls;
  }

  it('deadlocks two consumers that lock the same rows in opposite orders: Postgres aborts one, which runs again', async () => {
    const calls = await crossedLocks(false);
    expect(calls['locks-forward']! + calls['locks-backward']!).toBe(3);
  });

  it('takes the locks first in one order when told which (lockFirst), so the same two consumers never deadlock', async () => {
    const calls = await crossedLocks(true);
    expect(calls).toEqual({ 'locks-forward': 1, 'locks-backward': 1 });
  });

  it('keeps what it holds from being sent again while a slow batch runs past ack_wait', async () => {
    const probes = ids('slow', 6);
    for (const id of probes) await publish(probe(id));
    // One event per transaction, each slower than ack_wait: the last waits about 5 × ack_wait.
    await startConsumer({
      ackWaitMs: 600,
      batchSize: 1,
      handlers: {
        'diagnostics.probe.recorded.v1': async (event, trx) => {
          await new Promise((resolve) => setTimeout(resolve, 700));
          await trx.insertInto('probe_log').values({ probe_id: event.data.probe_id }).execute();
        },
      },
    });
    await drained();

    expect(await applicationOrder()).toEqual(probes);
    const info = await bus.jsm.consumers.info(streamFor('diagnostics', bus.ns).name, CONSUMER);
    expect(info.num_redelivered).toBe(0);
    expect(info.delivered.consumer_seq).toBe(probes.length);
  });

  it('redelivers a whole batch after a crash between commit and ack, and applies nothing twice', async () => {
    const probes = ids('crash', 30);
    for (const id of probes) await publish(probe(id));
    // On a loaded machine the first message can arrive alone and make a batch of one: that one is
    // acked as usual, and the crash comes after the commit of the first batch of several.
    let batch = 0;
    let crashes = 0;
    const crashed = await startConsumer({
      ackWaitMs: 1_000,
      beforeCommit: async (_trx, events) => {
        batch = events.length;
      },
      hooks: {
        afterCommit: () => {
          if (batch < 2) return;
          crashes += 1;
          throw new Error('process killed after commit');
        },
      },
    });
    await waitFor(async () => crashes === 1, { what: 'the simulated crash' });
    await running.pop()!.stop();
    const committed = crashed.stats();
    // Every transaction before the last held one event and was acked; the last held several, none acked.
    expect(committed.largestBatch).toBeGreaterThan(1);
    const ackedAlone = committed.transactions - 1;
    expect(committed.events).toBe(ackedAlone + committed.largestBatch);
    const inbox = await db.selectFrom('inbox').select('event_id').where('consumer', '=', CONSUMER).execute();
    expect(inbox).toHaveLength(committed.events);

    // A new process on the same durable consumer gets the unacked batch again, and the rest.
    const recovered = await startConsumer({ ackWaitMs: 1_000 });
    await drained();
    const stream = streamFor('diagnostics', bus.ns).name;
    const info = await bus.jsm.consumers.info(stream, CONSUMER);
    expect(info.delivered.consumer_seq).toBeGreaterThanOrEqual(probes.length + committed.largestBatch);
    expect(recovered.stats().events).toBeGreaterThanOrEqual(probes.length - ackedAlone);
    expect(await appliedCounts()).toEqual(once(probes));
    expect(await applicationOrder()).toEqual(probes);
  });
});
