import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase } from '../db/database.ts';
import type { KitTables } from '../db/kit-migrations.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createLogger } from '../logger.ts';
import { createTestDatabase, readStream, testPrefix, waitFor } from '../testing/index.ts';
import { type Bus, connectBus, ensureStream } from './bus.ts';
import { appendToOutbox } from './outbox.ts';
import { OutboxRelay } from './outbox-relay.ts';
import { inject } from 'vitest';

const logger = createLogger({
  name: 'outbox-test',
  level: process.env.TEST_LOG_LEVEL ?? 'silent',
  pretty: false,
});
let db: Kysely<KitTables>;
let bus: Bus;
let drop: () => Promise<void>;
let databaseUrl: string;

const probe = (probe_id: string): TesseraEvent =>
  buildEvent('diagnostics.probe.recorded.v1', { probe_id }, { subject: probe_id });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function publishedProbeIds(): Promise<string[]> {
  const messages = await readStream(bus, 'diagnostics');
  return messages.map((m) => (m.data as { data: { probe_id: string } }).data.probe_id);
}

beforeAll(async () => {
  const database = await createTestDatabase('outbox');
  drop = database.drop;
  databaseUrl = database.url;
  db = createDatabase<KitTables>(database.url);
  await migrateToLatest(db as Kysely<unknown>);
});

beforeEach(async () => {
  // A fresh namespace per test: its own, empty stream.
  await bus?.close();
  bus = await connectBus({ url: inject('natsUrl'), name: 'outbox-test', prefix: testPrefix() });
  await ensureStream(bus, 'diagnostics');
  await db.deleteFrom('outbox').execute();
});

afterAll(async () => {
  await bus?.close();
  await db?.destroy();
  await drop?.();
});

describe('transactional outbox', () => {
  it('never publishes an event whose transaction rolled back', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await appendToOutbox(trx, [probe('rolled-back')]);
        throw new Error('business rule failed after writing');
      }),
    ).rejects.toThrow('business rule failed');
    await db.transaction().execute((trx) => appendToOutbox(trx, [probe('committed')]));

    const relay = new OutboxRelay({ db, bus, logger });
    expect(await relay.relayOnce()).toBe(1);
    expect(await relay.relayOnce()).toBe(0);
    expect(await publishedProbeIds()).toEqual(['committed']);
  });

  it('refuses an event that does not match its catalogued schema', async () => {
    const bad = { ...probe('x'), data: { probe_id: 42 } } as unknown as TesseraEvent;
    await expect(db.transaction().execute((trx) => appendToOutbox(trx, [bad]))).rejects.toThrow(
      /INVALID_DATA/,
    );
    expect(await db.selectFrom('outbox').selectAll().execute()).toHaveLength(0);
  });

  it('publishes once when the relay dies after publishing and before marking the row', async () => {
    const event = probe('crash-after-publish');
    await db.transaction().execute((trx) => appendToOutbox(trx, [event]));

    const dying = new OutboxRelay({
      db,
      bus,
      logger,
      hooks: {
        afterPublish: () => {
          throw new Error('killed between publish and mark');
        },
      },
    });
    await expect(dying.relayOnce()).rejects.toThrow('killed');
    const row = await db
      .selectFrom('outbox')
      .selectAll()
      .where('event_id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(row.published_at).toBeNull();
    expect(await publishedProbeIds()).toEqual(['crash-after-publish']);

    const restarted = new OutboxRelay({ db, bus, logger });
    expect(await restarted.relayOnce()).toBe(1);
    expect(await publishedProbeIds()).toEqual(['crash-after-publish']);
    const marked = await db
      .selectFrom('outbox')
      .selectAll()
      .where('event_id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(marked.published_at).not.toBeNull();
  });

  it('waits for a row that commits late, then publishes both in commit-safe order', async () => {
    const holdEarly = deferred();
    const earlyWritten = deferred();
    // Transaction A takes the smaller position but commits last.
    const early = db.transaction().execute(async (trx) => {
      await appendToOutbox(trx, [probe('early-position')]);
      earlyWritten.resolve();
      await holdEarly.promise;
    });
    await earlyWritten.promise;
    await db.transaction().execute((trx) => appendToOutbox(trx, [probe('late-position')]));

    const relay = new OutboxRelay({ db, bus, logger });
    // B is committed, but A (older) is still open: publishing B now could let a
    // checkpoint-based reader skip A forever, so the relay waits.
    expect(await relay.relayOnce()).toBe(0);

    holdEarly.resolve();
    await early;
    expect(await relay.relayOnce()).toBe(2);
    expect(await publishedProbeIds()).toEqual(['early-position', 'late-position']);
    const rows = await db.selectFrom('outbox').select(['position', 'payload']).orderBy('position').execute();
    expect(rows.map((p) => (p.payload as { data: { probe_id: string } }).data.probe_id)).toEqual([
      'early-position',
      'late-position',
    ]);
  });

  it('wakes on every commit notification, without waiting for a poll', async () => {
    // Polling every minute: only LISTEN/NOTIFY can make this pass in time,
    // including notifications that arrive while the relay is busy publishing.
    const relay = new OutboxRelay({ db, bus, logger, databaseUrl, pollIntervalMs: 60_000 });
    relay.start();
    try {
      for (let i = 0; i < 40; i++) {
        const burst = [probe(`n${i}-a`), probe(`n${i}-b`)];
        await Promise.all(burst.map((e) => db.transaction().execute((trx) => appendToOutbox(trx, [e]))));
        await waitFor(
          async () => {
            const pending = await db
              .selectFrom('outbox')
              .select('event_id')
              .where('published_at', 'is', null)
              .execute();
            return pending.length === 0;
          },
          { timeoutMs: 3_000, what: `burst ${i} to be relayed` },
        );
      }
    } finally {
      await relay.stop();
    }
    expect(await publishedProbeIds()).toHaveLength(80);
  });

  it('relays every row from many concurrent writers committing out of position order, none skipped', async () => {
    const writers = 12;
    const perWriter = 15;
    const relay = new OutboxRelay({ db, bus, logger, pollIntervalMs: 5, batchSize: 25 });
    relay.start();
    try {
      await Promise.all(
        Array.from({ length: writers }, (_, w) =>
          (async () => {
            for (let i = 0; i < perWriter; i++) {
              await db.transaction().execute(async (trx) => {
                await appendToOutbox(trx, [probe(`w${w}-e${i}`)]);
                // Hold the transaction open a random while so commits interleave.
                await new Promise((r) => setTimeout(r, Math.random() * 8));
              });
            }
          })(),
        ),
      );
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const pending = await db
          .selectFrom('outbox')
          .select('event_id')
          .where('published_at', 'is', null)
          .execute();
        if (pending.length === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await relay.stop();
    }
    const ids = await publishedProbeIds();
    expect(ids).toHaveLength(writers * perWriter);
    expect(new Set(ids).size).toBe(writers * perWriter);
    // Each writer's own events stay in its commit order.
    for (let w = 0; w < writers; w++) {
      const mine = ids.filter((id) => id.startsWith(`w${w}-`));
      expect(mine).toEqual(Array.from({ length: perWriter }, (_, i) => `w${w}-e${i}`));
    }
  });
});
