import { createTestDatabase } from '@tessera/service-kit/testing';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type ContractSubject, describeEventStoreContract, type HeldCommit } from './event-store.contract.ts';
import { WrongExpectedRevisionError } from './event-store.ts';
import { createPostgresEventStore, decodeCheckpoint, encodeCheckpoint } from './postgres-store.ts';

/** A held commit that can also be made to fail at the same point (the transaction rolls back). */
type FailableCommit = HeldCommit & { fail(error: Error): void };

async function postgresSubject(
  setBasedFrom?: number,
): Promise<Omit<ContractSubject, 'holdNextCommit'> & { url: string; holdNextCommit(): FailableCommit }> {
  const database = await createTestDatabase('ledger_store');
  const hooks: { beforeCommit?: () => Promise<void> } = {};
  const store = await createPostgresEventStore({
    db: database.url,
    migrate: true,
    poolSize: 30,
    hooks,
    ...(setBasedFrom === undefined ? {} : { setBasedFrom }),
  });
  return {
    url: database.url,
    store,
    holdNextCommit() {
      let reached!: () => void;
      let settle!: (failure?: Error) => void;
      const outcome = new Promise<Error | undefined>((resolve) => (settle = resolve));
      hooks.beforeCommit = async () => {
        delete hooks.beforeCommit;
        reached();
        const failure = await outcome;
        if (failure) throw failure;
      };
      return {
        reached: new Promise<void>((resolve) => (reached = resolve)),
        release: () => settle(),
        fail: (error) => settle(error),
      };
    },
    cleanup: () => database.drop(),
  };
}

describeEventStoreContract('postgres', () => postgresSubject());
// The batching writer's large appends go through es_append_set: the same contract, every append.
describeEventStoreContract('postgres, set-based append', () => postgresSubject(0));

describe('postgres event store', () => {
  it('encodes checkpoints at a fixed width, so they sort as they order', () => {
    const small = encodeCheckpoint('9', '100');
    const large = encodeCheckpoint('10', '2');
    expect(small < large).toBe(true);
    expect(decodeCheckpoint(large)).toEqual({ transactionId: '10', position: '2' });
    expect(decodeCheckpoint(encodeCheckpoint('18446744073709551615', '9223372036854775807'))).toEqual({
      transactionId: '18446744073709551615',
      position: '9223372036854775807',
    });
    expect(() => decodeCheckpoint('m000000000000001')).toThrow(TypeError);
  });

  it('orders the log by position as a number, past 9 and 99', async () => {
    const subject = await postgresSubject();
    try {
      const events = Array.from({ length: 120 }, (_, n) => ({
        id: crypto.randomUUID(),
        type: 't',
        data: { n },
      }));
      await subject.store.append([{ stream: 'many', expected: 'no_stream', events }]);
      const all = await subject.store.readAll();
      expect(all.map((e) => e.revision)).toEqual(events.map((_, n) => n));
      const page = await subject.store.readAll({ after: all[8]!.checkpoint, limit: 95 });
      expect(page.map((e) => e.revision)).toEqual(Array.from({ length: 95 }, (_, n) => n + 9));
    } finally {
      await subject.store.close();
      await subject.cleanup?.();
    }
  });

  for (const wake of ['NOTIFY', 'polling'] as const) {
    it(`wakes a subscription in another process by ${wake}`, async () => {
      const subject = await postgresSubject();
      const writer = await createPostgresEventStore({ db: subject.url, notify: wake === 'NOTIFY' });
      const reader = await createPostgresEventStore({
        db: subject.url,
        pollIntervalMs: wake === 'NOTIFY' ? 60_000 : 100,
      });
      const controller = new AbortController();
      try {
        const first = (async () => {
          for await (const event of reader.subscribeAll({ signal: controller.signal })) return event;
        })();
        await new Promise((resolve) => setTimeout(resolve, 300));
        const started = Date.now();
        const id = crypto.randomUUID();
        await writer.append([
          { stream: 'elsewhere', expected: 'no_stream', events: [{ id, type: 't', data: {} }] },
        ]);
        expect((await first)?.id).toBe(id);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        controller.abort();
        await Promise.all([writer.close(), reader.close(), subject.store.close()]);
        await subject.cleanup?.();
      }
    });
  }

  it('holds back events of transactions newer than the oldest one still running', async () => {
    const subject = await postgresSubject();
    const blocker = new pg.Client({ connectionString: subject.url });
    await blocker.connect();
    try {
      // Any transaction with an id, even one that never touches the event tables, holds the horizon.
      await blocker.query('begin');
      await blocker.query('select pg_current_xact_id()');
      await subject.store.append([
        {
          stream: 'late-s',
          expected: 'no_stream',
          events: [{ id: crypto.randomUUID(), type: 't', data: {} }],
        },
      ]);
      expect(await subject.store.readStream('late-s')).toHaveLength(1);
      expect(await subject.store.readAll()).toEqual([]);
      await blocker.query('commit');
      expect(await subject.store.readAll()).toHaveLength(1);
    } finally {
      await blocker.end();
      await subject.store.close();
      await subject.cleanup?.();
    }
  });

  it('delivers an event held back by another client’s transaction as soon as that one ends, not at the next poll', async () => {
    const subject = await postgresSubject();
    const reader = await createPostgresEventStore({ db: subject.url, pollIntervalMs: 60_000, notify: false });
    const blocker = new pg.Client({ connectionString: subject.url });
    await blocker.connect();
    const controller = new AbortController();
    try {
      await blocker.query('begin');
      await blocker.query('select pg_current_xact_id()');
      const id = crypto.randomUUID();
      // Appended through the reader's own store: its subscription is woken, but finds the event
      // held back behind the blocker, whose commit wakes no one.
      await reader.append([{ stream: 'held', expected: 'no_stream', events: [{ id, type: 't', data: {} }] }]);
      const first = (async () => {
        for await (const event of reader.subscribeAll({ signal: controller.signal })) return event;
      })();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      await blocker.query('commit');
      expect((await first)?.id).toBe(id);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      controller.abort();
      await blocker.end();
      await Promise.all([reader.close(), subject.store.close()]);
      await subject.cleanup?.();
    }
  });
  it("delivers an event while another database's transaction is open (the horizon is this database's)", async () => {
    const subject = await postgresSubject();
    const neighbour = await createTestDatabase('ledger_store_neighbour');
    const blocker = new pg.Client({ connectionString: neighbour.url });
    await blocker.connect();
    const controller = new AbortController();
    try {
      await blocker.query('begin');
      await blocker.query('select pg_current_xact_id()');
      const id = crypto.randomUUID();
      await subject.store.append([
        { stream: 'beside', expected: 'no_stream', events: [{ id, type: 't', data: {} }] },
      ]);
      expect((await subject.store.readAll()).map((event) => event.id)).toEqual([id]);
      const first = (async () => {
        for await (const event of subject.store.subscribeAll({ signal: controller.signal })) return event;
      })();
      expect((await first)?.id).toBe(id);
      // Still open: the cluster's xmin is the blocker's, and it held nothing back.
      const { rows } = await blocker.query<{ open: boolean }>(
        'select pg_current_xact_id() is not null as open',
      );
      expect(rows).toEqual([{ open: true }]);
    } finally {
      controller.abort();
      await blocker.query('rollback').catch(() => undefined);
      await blocker.end();
      await subject.store.close();
      await subject.cleanup?.();
      await neighbour.drop();
    }
  });
});

describe.each([
  ['es_append', undefined],
  ['es_append_set', 0],
])('postgres event store (%s): an append expecting what a batch in flight will leave', (_, setBasedFrom) => {
  const storeWithHeldCommit = async () => {
    const subject = await postgresSubject(setBasedFrom);
    let held: FailableCommit | undefined;
    const holdNext = () => (held = subject.holdNextCommit());
    const cleanup = async () => {
      held?.release(); // a commit still held would keep close() waiting
      await subject.store.close();
      await subject.cleanup!();
    };
    return { store: subject.store, holdNext, cleanup };
  };
  const event = () => ({ id: crypto.randomUUID(), type: 't', data: {} });
  const settledWithin = async (promise: Promise<unknown>, ms: number) =>
    Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
    ]);

  it('waits for it, and appends at the revision it left once it commits', async () => {
    const { store, holdNext, cleanup } = await storeWithHeldCommit();
    try {
      await store.append([{ stream: 's', expected: 'no_stream', events: [event()] }]);
      const held = holdNext();
      const inFlight = store.append([{ stream: 's', expected: 0, events: [event()] }]);
      await held.reached;
      const next = store.append([{ stream: 's', expected: 1, events: [event(), event()] }]);
      expect(await settledWithin(next, 300)).toBe(false);
      held.release();
      await inFlight;
      expect(await next).toEqual({ streams: [{ stream: 's', revision: 3 }] });
      expect((await store.readStream('s')).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
    } finally {
      await cleanup();
    }
  });

  it('is refused when the batch in flight rolls back, writing nothing', async () => {
    const { store, holdNext, cleanup } = await storeWithHeldCommit();
    try {
      await store.append([{ stream: 's', expected: 'no_stream', events: [event()] }]);
      const held = holdNext();
      const inFlight = store.append([{ stream: 's', expected: 0, events: [event()] }]);
      await held.reached;
      // Its refusal may come before the in-flight one is awaited: caught at once, or it is unhandled.
      const next = store.append([{ stream: 's', expected: 1, events: [event()] }]).then(
        () => 'appended',
        (error: unknown) => error,
      );
      held.fail(new Error('connection reset'));
      await expect(inFlight).rejects.toThrow('connection reset');
      expect(await next).toBeInstanceOf(WrongExpectedRevisionError);
      expect(await store.readStream('s')).toHaveLength(1);
    } finally {
      await cleanup();
    }
  });

  it('still refuses at once a revision behind the committed one, without queueing for the lock', async () => {
    const { store, holdNext, cleanup } = await storeWithHeldCommit();
    try {
      await store.append([{ stream: 's', expected: 'no_stream', events: [event(), event()] }]);
      const held = holdNext();
      const inFlight = store.append([{ stream: 's', expected: 1, events: [event()] }]);
      await held.reached;
      const stale = store.append([{ stream: 's', expected: 0, events: [event()] }]);
      expect(await settledWithin(stale, 2_000)).toBe(true);
      await expect(stale).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      held.release();
      await inFlight;
    } finally {
      await cleanup();
    }
  });
});

describe('postgres event store: a set-based append on a large store', () => {
  // Its cost must not grow with the store. es_streams gains a row per transfer; before its first
  // ANALYZE (or while its statistics lag) the planner took a hash join over a sequential scan of it
  // for the stale-expectation check and the revision update: 6 of a batch's 15 ms at 19k streams.
  it('finds the streams it appends to through the index, never by scanning es_streams', async () => {
    const subject = await postgresSubject(0);
    const client = new pg.Client({ connectionString: subject.url });
    try {
      const event = () => ({ id: crypto.randomUUID(), type: 't', data: {} });
      // 20,000 streams, written directly: the store's own appends would take longer to get there.
      await client.connect();
      await client.query(
        `insert into es_streams (stream, revision) select 'filler-' || i, 0 from generate_series(1, 20000) as i`,
      );
      const existing = Array.from({ length: 32 }, (_, i) => `account-${i}`);
      await subject.store.append(
        existing.map((stream) => ({ stream, expected: 'no_stream', events: [event()] })),
      );

      const plans: string[] = [];
      client.on('notice', (notice) => plans.push(notice.message ?? ''));
      await client.query(`load 'auto_explain'`);
      await client.query(
        `set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on; set client_min_messages = log`,
      );
      // Six batches: plpgsql plans a statement afresh for its first five runs, then may keep a
      // generic plan; both kinds are checked.
      for (let batch = 0; batch < 6; batch++) {
        const request = [
          ...existing.map((stream) => ({ stream, expected: String(batch), events: [event()] })),
          ...existing.map((stream, i) => ({
            stream: `${stream}-credit-${i}`,
            expected: 'any',
            events: [event()],
          })),
          ...existing.map((_, i) => ({
            stream: `transfer-${batch}-${i}`,
            expected: 'no_stream',
            events: [event()],
          })),
        ];
        const { rows } = await client.query<{ request_index: number; last_revision: string }>(
          'select request_index, last_revision from es_append_set($1::jsonb)',
          [JSON.stringify(request)],
        );
        const revisions = new Map(rows.map((row) => [row.request_index, Number(row.last_revision)]));
        expect(request.map((_, i) => revisions.get(i))).toEqual(
          request.map((r) => (r.expected === 'no_stream' ? 0 : r.expected === 'any' ? batch : batch + 1)),
        );
      }
      const touchingStreams = plans.filter((plan) => plan.includes('es_streams'));
      expect(touchingStreams.length).toBeGreaterThanOrEqual(6 * 4); // the plans were seen at all
      expect(touchingStreams.filter((plan) => /Seq Scan on es_streams/.test(plan))).toEqual([]);
    } finally {
      await client.end();
      await subject.store.close();
      await subject.cleanup!();
    }
  });
});
