import { randomUUID } from 'node:crypto';
import { buildEvent, streamFor, subjectFor, type TesseraEvent } from '@tessera/contracts';
import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../db/database.ts';
import type { KitTables } from '../db/kit-migrations.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createHttpApp } from '../http/app.ts';
import { createTokenVerifier } from '../http/auth.ts';
import { createLogger } from '../logger.ts';
import {
  createTestDatabase,
  createTestIssuer,
  testPrefix,
  waitFor,
  waitForHandled,
} from '../testing/index.ts';
import { type Bus, connectBus, ensureStream } from './bus.ts';
import { EventConsumer, type EventConsumerOptions } from './consumer.ts';
import { registerDeadLetterRoutes } from './dead-letters.ts';

interface TestDB extends KitTables {
  probe_effects: { probe_id: string; applied: number };
}

const logger = createLogger({
  name: 'consumer-test',
  level: process.env.TEST_LOG_LEVEL ?? 'silent',
  pretty: false,
});
let db: Kysely<TestDB>;
let bus: Bus;
let drop: () => Promise<void>;
const running: EventConsumer<TestDB>[] = [];

/** Handler calls by probe id, for probes whose note is `unreachable:<n>`. */
const calls = new Map<string, number>();

/** The effect under test: counts how many times each probe was applied. */
const countProbe: EventConsumerOptions<TestDB>['handlers'] = {
  'diagnostics.probe.recorded.v1': async (event, trx) => {
    if (event.data.note === 'fail') throw new Error(`cannot apply ${event.data.probe_id}`);
    const unreachable = /^unreachable:(\d+)$/.exec(event.data.note ?? '');
    if (unreachable) {
      // The database refusing connections for the first n calls, as while it restarts.
      const n = (calls.get(event.data.probe_id) ?? 0) + 1;
      calls.set(event.data.probe_id, n);
      if (n <= Number(unreachable[1])) {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      }
    }
    await trx
      .insertInto('probe_effects')
      .values({ probe_id: event.data.probe_id, applied: 1 })
      .onConflict((oc) => oc.column('probe_id').doUpdateSet({ applied: sql`probe_effects.applied + 1` }))
      .execute();
  },
};

async function startConsumer(overrides: Partial<EventConsumerOptions<TestDB>> = {}) {
  const consumer = new EventConsumer<TestDB>({
    name: 'probe-counter',
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

const applied = async (probeId: string) =>
  (await db.selectFrom('probe_effects').select('applied').where('probe_id', '=', probeId).executeTakeFirst())
    ?.applied ?? 0;

beforeAll(async () => {
  const database = await createTestDatabase('consumer');
  drop = database.drop;
  db = createDatabase<TestDB>(database.url);
  await migrateToLatest(db as Kysely<unknown>);
  await sql`create table probe_effects (probe_id text primary key, applied int not null)`.execute(db);
});

beforeEach(async () => {
  bus = await connectBus({ url: inject('natsUrl'), name: 'consumer-test', prefix: testPrefix() });
  await ensureStream(bus, 'diagnostics');
});

afterEach(async () => {
  for (const consumer of running.splice(0)) await consumer.stop();
  await bus.close();
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

/** The dead-letter routes of `consumer` on an app of their own, with the issuer of its tokens. */
async function deadLetterApp(consumer: EventConsumer<TestDB>) {
  const issuer = await createTestIssuer();
  const app = await createHttpApp({
    name: 'diagnostics',
    logger,
    tokens: createTokenVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience }),
  });
  registerDeadLetterRoutes(app, { service: 'diagnostics', db, consumers: [consumer] });
  return { issuer, app };
}

describe('event consumer', () => {
  it('applies an event once even when it is delivered twice', async () => {
    await startConsumer();
    const event = probe('twice');
    // Two distinct messages carrying the same event (a producer retried past the dedupe window).
    await publish(event, 'first-copy');
    await publish(event, 'second-copy');
    const after = probe('after-twice');
    await publish(after);
    await waitForHandled(db, 'probe-counter', after.id);
    expect(await applied('twice')).toBe(1);
    expect(await applied('after-twice')).toBe(1);
  });

  it('takes a changed filter on the same durable in place, going on from where it was', async () => {
    const name = `refiltered-${randomUUID().slice(0, 8)}`;
    const first = probe('before-refilter');
    const narrow = await startConsumer({ name, filter: 'diagnostics.probe.>' });
    await publish(first);
    await waitForHandled(db, name, first.id);
    await narrow.stop();
    running.splice(running.indexOf(narrow), 1);

    // A later version reads more of the stream under the same name (tasks' QC consumer did).
    await startConsumer({ name, filter: 'diagnostics.>' });
    const stream = streamFor('diagnostics', bus.ns).name;
    const info = await bus.jsm.consumers.info(stream, name);
    expect(info.config.filter_subject).toBe(subjectFor('diagnostics.>', bus.ns));
    const second = probe('after-refilter');
    await publish(second);
    await waitForHandled(db, name, second.id);
    // Nothing delivered again: what it had acked stays acked.
    expect((await bus.jsm.consumers.info(stream, name)).delivered.consumer_seq).toBe(2);
    expect(await applied('before-refilter')).toBe(1);
  });

  it('does not apply an effect twice when the consumer dies after commit and before ack', async () => {
    const event = probe('crash-before-ack');
    let crashes = 0;
    await startConsumer({
      ackWaitMs: 1_000,
      hooks: {
        afterCommit: () => {
          crashes += 1;
          throw new Error('process killed after commit');
        },
      },
    });
    await publish(event);
    await waitForHandled(db, 'probe-counter', event.id);
    await waitFor(async () => crashes === 1, { what: 'the simulated crash' });
    await running.pop()!.stop();

    // A new process on the same durable consumer gets the unacked message again.
    await startConsumer({ ackWaitMs: 1_000 });
    const stream = streamFor('diagnostics', bus.ns).name;
    await waitFor(
      async () => {
        const info = await bus.jsm.consumers.info(stream, 'probe-counter');
        // Delivered again (consumer sequence 2+) and nothing left unacknowledged.
        return info.delivered.consumer_seq >= 2 && info.num_ack_pending === 0 && info.num_pending === 0;
      },
      { timeoutMs: 10_000, what: 'the redelivery to be acked' },
    );
    expect(await applied('crash-before-ack')).toBe(1);
  });

  it('dead-letters poison messages with their error and goes on', async () => {
    await startConsumer();
    await publish('{not json');
    await publish(JSON.stringify({ ...probe('bad-data'), data: { probe_id: 7 } }));
    await publish(JSON.stringify({ ...probe('bad-envelope'), specversion: '0.3' }));
    const good = probe('after-poison');
    await publish(good);
    await waitForHandled(db, 'probe-counter', good.id);
    expect(await applied('after-poison')).toBe(1);

    const letters = await db.selectFrom('dead_letters').selectAll().orderBy('id').execute();
    expect(letters.map((l) => l.error_code)).toEqual(['MALFORMED_JSON', 'INVALID_DATA', 'INVALID_ENVELOPE']);
    expect(letters[0]!.payload).toBe('{not json');
    expect(letters[1]!.error).toMatch(/probe_id/);
    expect(letters.every((l) => l.consumer === 'probe-counter' && l.deliveries === 1)).toBe(true);
    await db.deleteFrom('dead_letters').execute();
  });

  it('dead-letters an event on another type’s subject or from another source, never applying it', async () => {
    await startConsumer();
    const misplaced = probe('misplaced');
    await bus.js.publish(subjectFor('diagnostics.probe.forged.v1', bus.ns), JSON.stringify(misplaced));
    const impostor = { ...probe('impostor'), source: 'ledger' };
    await publish(JSON.stringify(impostor));
    const good = probe('after-forgeries');
    await publish(good);
    await waitForHandled(db, 'probe-counter', good.id);

    expect(await applied('misplaced')).toBe(0);
    expect(await applied('impostor')).toBe(0);
    const letters = await db.selectFrom('dead_letters').selectAll().orderBy('id').execute();
    expect(letters.map((l) => [l.event_id, l.error_code])).toEqual([
      [misplaced.id, 'WRONG_PROVENANCE'],
      [impostor.id, 'WRONG_PROVENANCE'],
    ]);
    expect(letters[0]!.error).toMatch(/arrived on subject/);
    expect(letters[1]!.error).toMatch(/from source ledger/);
    await db.deleteFrom('dead_letters').execute();
  });

  it('retries a failing handler with backoff, dead-letters it after the last delivery, and replays it', async () => {
    const consumer = await startConsumer({ maxDeliver: 3, backoffMs: [50, 100] });
    const failing = probe('flaky', 'fail');
    await publish(failing);
    const next = probe('after-flaky');
    await publish(next);
    await waitForHandled(db, 'probe-counter', next.id);

    const letter = await waitFor(() =>
      db.selectFrom('dead_letters').selectAll().where('event_id', '=', failing.id).executeTakeFirst(),
    );
    expect(letter).toMatchObject({ error_code: 'HANDLER_FAILED', deliveries: 3, type: failing.type });
    expect(letter.error).toContain('cannot apply flaky');
    expect(await applied('flaky')).toBe(0);

    // The cause is fixed (here: the stored payload is corrected), then an operator replays it.
    const fixed = { ...failing, data: { probe_id: 'flaky' } };
    await db
      .updateTable('dead_letters')
      .set({ payload: JSON.stringify(fixed) })
      .where('id', '=', letter.id)
      .execute();

    const { issuer, app } = await deadLetterApp(consumer);
    const admin = { authorization: `Bearer ${await issuer.token({ role: 'admin' })}` };
    const contributor = { authorization: `Bearer ${await issuer.token({ role: 'contributor' })}` };

    const forbidden = await app.inject({
      url: '/api/v1/admin/diagnostics/dead-letters',
      headers: contributor,
    });
    expect(forbidden.statusCode).toBe(403);
    const list = await app.inject({ url: '/api/v1/admin/diagnostics/dead-letters', headers: admin });
    expect(list.statusCode).toBe(200);
    expect(list.json().dead_letters.map((l: { id: number }) => l.id)).toEqual([letter.id]);

    const replay = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/diagnostics/dead-letters/${letter.id}/replay`,
      headers: admin,
    });
    expect(replay.json()).toEqual({ outcome: 'applied' });
    expect(await applied('flaky')).toBe(1);

    const again = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/diagnostics/dead-letters/${letter.id}/replay`,
      headers: admin,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ALREADY_REPLAYED');
    expect(await applied('flaky')).toBe(1);
    const open = await app.inject({ url: '/api/v1/admin/diagnostics/dead-letters', headers: admin });
    expect(open.json().dead_letters).toEqual([]);
    await app.close();
  });

  it('counts failures, not deliveries: an event the database could not take for many deliveries is applied once it can', async () => {
    // maxDeliver 2: by deliveries, the third would have been dead-lettered unhandled.
    await startConsumer({ maxDeliver: 2, backoffMs: [20] });
    const patient = probe('patient', 'unreachable:6');
    await publish(patient);
    await waitForHandled(db, 'probe-counter', patient.id);
    expect(await applied('patient')).toBe(1);
    expect(calls.get('patient')).toBe(7);
    const letters = await db
      .selectFrom('dead_letters')
      .select('id')
      .where('event_id', '=', patient.id)
      .execute();
    expect(letters).toEqual([]);
  });

  it('lets an admin dismiss a dead letter, saying why, which then is closed for good', async () => {
    const consumer = await startConsumer({ maxDeliver: 2, backoffMs: [30] });
    const doomed = probe('doomed', 'fail');
    await publish(doomed);
    const letter = await waitFor(() =>
      db.selectFrom('dead_letters').selectAll().where('event_id', '=', doomed.id).executeTakeFirst(),
    );
    const { issuer, app } = await deadLetterApp(consumer);
    const adminId = randomUUID();
    const admin = { authorization: `Bearer ${await issuer.token({ role: 'admin', sub: adminId })}` };
    const contributor = { authorization: `Bearer ${await issuer.token({ role: 'contributor' })}` };
    const dismiss = (headers: Record<string, string>, body: unknown, id: number = letter.id) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/admin/diagnostics/dead-letters/${id}/dismiss`,
        headers,
        payload: body as object,
      });
    const reason = 'probe written to fail on purpose; nothing to apply';

    expect((await dismiss(contributor, { reason })).statusCode).toBe(403);
    const short = await dismiss(admin, { reason: '   meh    ' });
    expect([short.statusCode, short.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    const missing = await dismiss(admin, { reason }, 999_999_999);
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'DEAD_LETTER_NOT_FOUND']);

    const dismissed = await dismiss(admin, { reason: `  ${reason}  ` });
    expect(dismissed.statusCode).toBe(200);
    expect(dismissed.json().dead_letter).toMatchObject({
      id: letter.id,
      dismissed_by: adminId,
      dismiss_reason: reason,
    });
    expect(dismissed.json().dead_letter.dismissed_at).not.toBeNull();

    // Closed: not listed as open, listed with the closed ones, neither replayed nor dismissed again.
    const open = await app.inject({ url: '/api/v1/admin/diagnostics/dead-letters', headers: admin });
    expect(open.json().dead_letters).toEqual([]);
    const all = await app.inject({
      url: '/api/v1/admin/diagnostics/dead-letters?include_replayed=true',
      headers: admin,
    });
    expect(all.json().dead_letters.map((l: { id: number }) => l.id)).toContain(letter.id);
    const replay = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/diagnostics/dead-letters/${letter.id}/replay`,
      headers: admin,
    });
    expect([replay.statusCode, replay.json().code]).toEqual([409, 'ALREADY_DISMISSED']);
    const again = await dismiss(admin, { reason });
    expect([again.statusCode, again.json().code]).toEqual([409, 'ALREADY_DISMISSED']);
    expect(await applied('doomed')).toBe(0);

    // The store itself refuses a letter both replayed and dismissed.
    await expect(
      db.updateTable('dead_letters').set({ replayed_at: new Date() }).where('id', '=', letter.id).execute(),
    ).rejects.toThrow(/dead_letters_closed_once/);
    await db.deleteFrom('dead_letters').execute();
    await app.close();
  });

  it('loses nothing when even dead-lettering fails: the event waits until it can be parked', async () => {
    await startConsumer({ maxDeliver: 2, backoffMs: [30] });
    // The store for dead letters is broken for a while (as in a database outage).
    await sql`alter table dead_letters rename to dead_letters_away`.execute(db);
    const failing = probe('unparkable', 'fail');
    await publish(failing);
    const stream = streamFor('diagnostics', bus.ns).name;
    await waitFor(
      async () => (await bus.jsm.consumers.info(stream, 'probe-counter')).delivered.consumer_seq >= 8,
      { what: 'deliveries well past maxDeliver' },
    );
    await sql`alter table dead_letters_away rename to dead_letters`.execute(db);
    const letter = await waitFor(() =>
      db.selectFrom('dead_letters').selectAll().where('event_id', '=', failing.id).executeTakeFirst(),
    );
    expect(letter.error_code).toBe('HANDLER_FAILED');
    expect(letter.deliveries).toBeGreaterThan(2);
    expect(await applied('unparkable')).toBe(0);
  });
});
