import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../db/database.ts';
import type { KitTables } from '../db/kit-migrations.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createLogger } from '../logger.ts';
import { createTestDatabase, readStream, testPrefix, waitFor } from '../testing/index.ts';
import { type Bus, connectBus, ensureStream } from './bus.ts';
import { appendToOutbox } from './outbox.ts';
import { OutboxRelay } from './outbox-relay.ts';

const logger = createLogger({
  name: 'outbox-relay-test',
  level: process.env.TEST_LOG_LEVEL ?? 'silent',
  pretty: false,
});
let db: Kysely<KitTables>;
let bus: Bus;
let drop: () => Promise<void>;
let databaseUrl: string;

const probe = (probe_id: string): TesseraEvent =>
  buildEvent('diagnostics.probe.recorded.v1', { probe_id }, { subject: probe_id });

beforeAll(async () => {
  const database = await createTestDatabase('outbox_relay');
  drop = database.drop;
  databaseUrl = database.url;
  db = createDatabase<KitTables>(database.url);
  await migrateToLatest(db as Kysely<unknown>);
  await sql`create table unrelated (id int primary key)`.execute(db);
  bus = await connectBus({ url: inject('natsUrl'), name: 'outbox-relay-test', prefix: testPrefix() });
  await ensureStream(bus, 'diagnostics');
});

afterAll(async () => {
  await bus?.close();
  await db?.destroy();
  await drop?.();
});

describe('outbox relay', () => {
  it('publishes a row held back by an older open transaction soon after it ends, with no notification or poll', async () => {
    const relay = new OutboxRelay({ db, bus, logger, databaseUrl, pollIntervalMs: 60_000 });
    relay.start();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const hasXid = new Promise<void>((resolve) => (written = resolve));
    try {
      // An older transaction that writes no event (so its commit notifies nobody) stays open.
      const older = db.transaction().execute(async (trx) => {
        await sql`insert into unrelated (id) values (1)`.execute(trx);
        written();
        await released;
      });
      await hasXid;
      const held = probe('held-back');
      await db.transaction().execute((trx) => appendToOutbox(trx, [held]));
      // Its commit notified the relay, but the row must wait: the older transaction could still commit a row before it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await readStream(bus, 'diagnostics')).toEqual([]);

      release();
      await older;
      const started = Date.now();
      await waitFor(
        async () =>
          (
            await db
              .selectFrom('outbox')
              .select('published_at')
              .where('event_id', '=', held.id)
              .executeTakeFirst()
          )?.published_at,
        { timeoutMs: 3_000, what: 'the held-back row to be published' },
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      const messages = await readStream(bus, 'diagnostics');
      expect(messages.map((m) => (m.data as { id: string }).id)).toEqual([held.id]);
    } finally {
      release();
      await relay.stop();
    }
  });

  it("is not held back by another database's open transaction", async () => {
    // The services share one Postgres cluster locally: a neighbour's slow transaction (in its own
    // database) must not delay this database's events, as the cluster-wide xmin did.
    const neighbour = await createTestDatabase('outbox_relay_neighbour');
    const client = new pg.Client({ connectionString: neighbour.url });
    const relay = new OutboxRelay({ db, bus, logger, databaseUrl, pollIntervalMs: 60_000 });
    try {
      await client.connect();
      await client.query('begin');
      await client.query('select pg_current_xact_id()');
      relay.start();
      const event = probe('beside-a-neighbour');
      await db.transaction().execute((trx) => appendToOutbox(trx, [event]));
      const published = await waitFor(
        async () =>
          (
            await db
              .selectFrom('outbox')
              .select('published_at')
              .where('event_id', '=', event.id)
              .executeTakeFirst()
          )?.published_at,
        { timeoutMs: 3_000, what: "the row to be published while the neighbour's transaction is open" },
      );
      expect(published).toBeInstanceOf(Date);
      // …while the neighbour's transaction still held its id.
      const neighbourName = new URL(neighbour.url).pathname.slice(1);
      const open = await sql<{ holding: number }>`
        select count(*)::int as holding from pg_stat_activity
        where datname = ${neighbourName} and backend_xid is not null`.execute(db);
      expect(open.rows[0]?.holding).toBe(1);
    } finally {
      await relay.stop();
      await client.query('rollback').catch(() => undefined);
      await client.end().catch(() => undefined);
      await neighbour.drop();
    }
  });

  it('publishes a large backlog in outbox order, each row once, marking every row', async () => {
    const events = Array.from({ length: 450 }, (_, i) => probe(`backlog-${i}`));
    for (let i = 0; i < events.length; i += 50) {
      await db.transaction().execute((trx) => appendToOutbox(trx, events.slice(i, i + 50)));
    }
    const relay = new OutboxRelay({ db, bus, logger, batchSize: 200 });
    expect(await relay.relayOnce()).toBe(200);
    expect(await relay.relayOnce()).toBe(200);
    expect(await relay.relayOnce()).toBe(50);
    expect(await relay.relayOnce()).toBe(0);
    const unpublished = await db
      .selectFrom('outbox')
      .select('event_id')
      .where('published_at', 'is', null)
      .execute();
    expect(unpublished).toEqual([]);
    const messages = await readStream(bus, 'diagnostics');
    const published = messages.map((m) => (m.data as { id: string }).id);
    expect(published.slice(-events.length)).toEqual(events.map((e) => e.id));
  });
});
