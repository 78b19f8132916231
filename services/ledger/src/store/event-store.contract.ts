import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DuplicateEventIdError,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
  WrongExpectedRevisionError,
} from './event-store.ts';

/** A commit the test holds open: the append has written its rows but not committed yet. */
export interface HeldCommit {
  /** Resolves once the next append has written everything and waits to commit. */
  reached: Promise<void>;
  release(): void;
}

export interface ContractSubject {
  store: EventStore;
  /**
   * Makes the next append pause just before it commits, so a later append can commit first.
   * Only adapters whose appends are transactions on our side offer it.
   */
  holdNextCommit?: () => HeldCommit;
  cleanup?: () => Promise<void>;
}

function event(type = 'thing-happened', data: Record<string, number | string> = {}): EventToAppend {
  return { id: randomUUID(), type, data: { ...data, nested: { list: [1, 'two', null, true] } } };
}

function events(count: number): EventToAppend[] {
  return Array.from({ length: count }, (_, n) => event('thing-happened', { n }));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

async function expectWrongRevision(
  promise: Promise<unknown>,
  stream: string,
  expected: ExpectedRevision,
  actual: number | 'no_stream',
): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  expect(error).toMatchObject({ stream, expected, actual });
}

/** Everything `readAll` holds after `after`, page by page. */
async function readEverything(store: EventStore, after?: string, limit = 500): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await store.readAll({ after: cursor, limit });
    all.push(...page);
    if (page.length < limit) return all;
    cursor = page.at(-1)?.checkpoint;
  }
}

/**
 * Everything `readAll` holds once it shows `count` events of `mine` (or after 5 s). An append is
 * readable once the commit horizon passes it, and a transaction of another database ending between
 * the horizon's snapshot and its look at `pg_stat_activity` holds the horizon back for that read
 * (commit-horizon.ts: never too high, sometimes lower than need be), so a test reads until its own
 * writes are there rather than once.
 */
async function readOnceVisible(
  store: EventStore,
  mine: (e: RecordedEvent) => boolean,
  count: number,
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const all = await readEverything(store);
    if (all.filter(mine).length >= count || Date.now() > deadline) return all;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function expectIncreasing(checkpoints: string[]): void {
  for (let i = 1; i < checkpoints.length; i++) {
    expect(checkpoints[i]! > checkpoints[i - 1]!, `${checkpoints[i]} after ${checkpoints[i - 1]}`).toBe(true);
  }
}

/** Subscribes and collects events of `mine` until `done` says so (or the timeout fails the test). */
async function collect(
  store: EventStore,
  options: { after?: string; mine: (e: RecordedEvent) => boolean; done: (got: RecordedEvent[]) => boolean },
  timeoutMs = 10_000,
): Promise<{ got: RecordedEvent[]; checkpoints: string[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const got: RecordedEvent[] = [];
  const checkpoints: string[] = [];
  try {
    for await (const e of store.subscribeAll({ after: options.after, signal: controller.signal })) {
      checkpoints.push(e.checkpoint);
      if (!options.mine(e)) continue;
      got.push(e);
      if (options.done(got)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (!options.done(got)) throw new Error(`subscription timed out with ${got.length} events`);
  return { got, checkpoints };
}

/**
 * The behaviour every EventStore adapter must have. The store may be shared with other suites (a
 * KurrentDB server is), so every test writes to streams of its own and filters what it reads.
 */
export function describeEventStoreContract(name: string, create: () => Promise<ContractSubject>): void {
  describe(`EventStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: EventStore;
    beforeAll(async () => {
      subject = await create();
      store = subject.store;
    });
    afterAll(async () => {
      await store?.close();
      await subject?.cleanup?.();
    });

    const unique = (label: string) => `${label}-${randomUUID()}`;

    describe('append and readStream', () => {
      it('appends events with dense revisions from 0 and reads them back', async () => {
        const stream = unique('account');
        const first = events(3);
        const result = await store.append([{ stream, expected: 'no_stream', events: first }]);
        expect(result).toEqual({ streams: [{ stream, revision: 2 }] });
        const second = [{ ...event('other'), metadata: { causation: 'x', nested: { n: 1 } } }];
        await store.append([{ stream, expected: 2, events: second }]);

        const read = await store.readStream(stream);
        expect(read.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
        expect(read.map((e) => e.id)).toEqual([...first, ...second].map((e) => e.id));
        expect(read[0]).toMatchObject({ stream, type: 'thing-happened', data: first[0]!.data, metadata: {} });
        expect(read[3]).toMatchObject({ type: 'other', metadata: { causation: 'x', nested: { n: 1 } } });
        expect(read[0]!.recordedAt).toBeInstanceOf(Date);
        expect(Math.abs(read[0]!.recordedAt.getTime() - Date.now())).toBeLessThan(60_000);
        expect(typeof read[0]!.checkpoint).toBe('string');
      });

      it('reads from a revision, with a limit, and [] for a stream that does not exist', async () => {
        const stream = unique('account');
        await store.append([{ stream, expected: 'no_stream', events: events(5) }]);
        expect((await store.readStream(stream, { fromRevision: 2 })).map((e) => e.revision)).toEqual([
          2, 3, 4,
        ]);
        expect(
          (await store.readStream(stream, { fromRevision: 1, limit: 2 })).map((e) => e.revision),
        ).toEqual([1, 2]);
        expect(await store.readStream(stream, { fromRevision: 5 })).toEqual([]);
        expect(await store.readStream(unique('missing'))).toEqual([]);
      });

      it('refuses a stream named twice, no events, a bad event id or revision, writing nothing', async () => {
        const stream = unique('account');
        await expect(
          store.append([
            { stream, expected: 'any', events: events(1) },
            { stream, expected: 'any', events: events(1) },
          ]),
        ).rejects.toThrow(TypeError);
        await expect(store.append([{ stream, expected: 'any', events: [] }])).rejects.toThrow(TypeError);
        await expect(
          store.append([{ stream, expected: 'any', events: [{ ...event(), id: 'not-a-uuid' }] }]),
        ).rejects.toThrow(TypeError);
        await expect(store.append([{ stream, expected: -1, events: events(1) }])).rejects.toThrow(TypeError);
        expect(await store.readStream(stream)).toEqual([]);
      });
    });

    describe('expected revisions', () => {
      it("'no_stream' succeeds on a new stream and fails on an existing one", async () => {
        const stream = unique('s');
        await store.append([{ stream, expected: 'no_stream', events: events(2) }]);
        await expectWrongRevision(
          store.append([{ stream, expected: 'no_stream', events: events(1) }]),
          stream,
          'no_stream',
          1,
        );
      });

      it("'exists' fails on a new stream and succeeds on an existing one", async () => {
        const stream = unique('s');
        await expectWrongRevision(
          store.append([{ stream, expected: 'exists', events: events(1) }]),
          stream,
          'exists',
          'no_stream',
        );
        await store.append([{ stream, expected: 'any', events: events(1) }]);
        const result = await store.append([{ stream, expected: 'exists', events: events(1) }]);
        expect(result.streams).toEqual([{ stream, revision: 1 }]);
      });

      it("'any' succeeds on new and existing streams", async () => {
        const stream = unique('s');
        await store.append([{ stream, expected: 'any', events: events(1) }]);
        const result = await store.append([{ stream, expected: 'any', events: events(2) }]);
        expect(result.streams).toEqual([{ stream, revision: 2 }]);
      });

      it('a revision succeeds when it is the last one and fails otherwise', async () => {
        const stream = unique('s');
        await expectWrongRevision(
          store.append([{ stream, expected: 0, events: events(1) }]),
          stream,
          0,
          'no_stream',
        );
        await store.append([{ stream, expected: 'no_stream', events: events(1) }]);
        await store.append([{ stream, expected: 0, events: events(2) }]);
        await expectWrongRevision(store.append([{ stream, expected: 1, events: events(1) }]), stream, 1, 2);
        await expectWrongRevision(store.append([{ stream, expected: 3, events: events(1) }]), stream, 3, 2);
        await store.append([{ stream, expected: 2, events: events(1) }]);
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
      });

      it('appends to several streams atomically and reports each revision in request order', async () => {
        const [a, b, c] = [unique('transfer'), unique('account'), unique('account')];
        await store.append([{ stream: b, expected: 'no_stream', events: events(2) }]);
        const result = await store.append([
          { stream: a, expected: 'no_stream', events: events(1) },
          { stream: b, expected: 1, events: events(1) },
          { stream: c, expected: 'any', events: events(3) },
        ]);
        expect(result.streams).toEqual([
          { stream: a, revision: 0 },
          { stream: b, revision: 2 },
          { stream: c, revision: 2 },
        ]);
      });

      it('writes nothing to any stream when one stream of the append is not as expected', async () => {
        const [a, b, c] = [unique('transfer'), unique('account'), unique('account')];
        await store.append([{ stream: b, expected: 'no_stream', events: events(1) }]);
        for (const failing of ['first', 'middle', 'last'] as const) {
          const appends = [
            { stream: a, expected: 'no_stream' as const, events: events(1) },
            { stream: c, expected: 'any' as const, events: events(1) },
          ];
          const bad = { stream: b, expected: 5, events: events(1) };
          if (failing === 'first') appends.unshift(bad as never);
          else if (failing === 'middle') appends.splice(1, 0, bad as never);
          else appends.push(bad as never);
          await expectWrongRevision(store.append(appends), b, 5, 0);
        }
        expect(await store.readStream(a)).toEqual([]);
        expect(await store.readStream(c)).toEqual([]);
        expect(await store.readStream(b)).toHaveLength(1);
      });
    });

    describe('event ids', () => {
      it('refuses an event id already in the store, writing nothing', async () => {
        const [a, b, c] = [unique('s'), unique('s'), unique('s')];
        const taken = event();
        await store.append([{ stream: a, expected: 'no_stream', events: [taken] }]);
        const error = await rejection(
          store.append([
            { stream: b, expected: 'no_stream', events: events(1) },
            { stream: c, expected: 'no_stream', events: [event(), { ...taken, type: 'again' }] },
          ]),
        );
        expect(error).toBeInstanceOf(DuplicateEventIdError);
        expect(error).toMatchObject({ eventId: taken.id });
        expect(await store.readStream(b)).toEqual([]);
        expect(await store.readStream(c)).toEqual([]);
        expect(await store.readStream(a)).toHaveLength(1);
      });

      it('refuses an event id used twice in one append', async () => {
        const [a, b] = [unique('s'), unique('s')];
        const twice = event();
        await expect(
          store.append([
            { stream: a, expected: 'any', events: [twice] },
            { stream: b, expected: 'any', events: [{ ...twice }] },
          ]),
        ).rejects.toBeInstanceOf(DuplicateEventIdError);
        expect(await store.readStream(a)).toEqual([]);
      });
    });

    describe('concurrency', () => {
      it('lets exactly one of 20 racers at the same expected revision win', async () => {
        const hot = unique('account');
        await store.append([{ stream: hot, expected: 'no_stream', events: events(1) }]);
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () =>
            store.append([
              { stream: unique('transfer'), expected: 'no_stream', events: events(1) },
              { stream: hot, expected: 0, events: events(1) },
            ]),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const r of lost) expect(r.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect((await store.readStream(hot)).map((e) => e.revision)).toEqual([0, 1]);
      });

      it("lets exactly one of 20 racers creating the same stream with 'no_stream' win", async () => {
        const stream = unique('transfer');
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () =>
            store.append([{ stream, expected: 'no_stream', events: events(2) }]),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it("keeps revisions dense when 20 writers append with 'any' at once", async () => {
        const stream = unique('account');
        await Promise.all(
          Array.from({ length: 20 }, () => store.append([{ stream, expected: 'any', events: events(2) }])),
        );
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual(
          Array.from({ length: 40 }, (_, i) => i),
        );
      });
    });

    describe('readAll', () => {
      it('returns committed events in the global order with increasing checkpoints, paged by `after`', async () => {
        const prefix = unique('order');
        const mine = (e: RecordedEvent) => e.stream.startsWith(prefix);
        const written: string[] = [];
        for (let i = 0; i < 7; i++) {
          const appends = [
            { stream: `${prefix}-a`, expected: 'any' as const, events: events(1) },
            { stream: `${prefix}-b${i % 2}`, expected: 'any' as const, events: events(2) },
          ];
          await store.append(appends);
          written.push(...appends.flatMap((a) => a.events.map((e) => e.id)));
        }
        const all = await readOnceVisible(store, mine, written.length);
        expectIncreasing(all.map((e) => e.checkpoint));
        const ours = all.filter(mine);
        expect(ours.map((e) => e.id)).toEqual(written);

        // Paging from a checkpoint in the middle gives exactly the rest.
        const middle = ours[6]!;
        const rest = (await readEverything(store, middle.checkpoint, 4)).filter(mine);
        expect(rest.map((e) => e.id)).toEqual(written.slice(7));
        expect(rest[0]).toMatchObject({ stream: ours[7]!.stream, revision: ours[7]!.revision });
      });
    });

    describe('subscribeAll', { timeout: 20_000 }, () => {
      it('delivers existing events, then live ones, after a checkpoint', async () => {
        const prefix = unique('sub');
        const mine = (e: RecordedEvent) => e.stream.startsWith(prefix);
        await store.append([{ stream: `${prefix}-0`, expected: 'no_stream', events: events(3) }]);
        const before = (await readOnceVisible(store, mine, 3)).filter(mine);
        const after = before[0]!.checkpoint;

        const subscription = collect(store, { after, mine, done: (got) => got.length === 4 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        await store.append([{ stream: `${prefix}-1`, expected: 'no_stream', events: events(1) }]);
        await store.append([{ stream: `${prefix}-0`, expected: 2, events: events(1) }]);
        const { got, checkpoints } = await subscription;

        expect(got.map((e) => [e.stream, e.revision])).toEqual([
          [`${prefix}-0`, 1],
          [`${prefix}-0`, 2],
          [`${prefix}-1`, 0],
          [`${prefix}-0`, 3],
        ]);
        expectIncreasing(checkpoints);
      });

      it('stops when its signal aborts, also while waiting for events', async () => {
        const controller = new AbortController();
        const stream = unique('abort');
        await store.append([{ stream, expected: 'no_stream', events: events(1) }]);
        const seen: RecordedEvent[] = [];
        const loop = (async () => {
          for await (const e of store.subscribeAll({ signal: controller.signal })) {
            if (e.stream === stream) {
              seen.push(e);
              setTimeout(() => controller.abort(), 50);
            }
          }
        })();
        await expect(loop).resolves.toBeUndefined();
        expect(seen).toHaveLength(1);

        const aborted = new AbortController();
        aborted.abort();
        const none: RecordedEvent[] = [];
        for await (const e of store.subscribeAll({ signal: aborted.signal })) none.push(e);
        expect(none).toEqual([]);
      });

      it('never skips an append that commits after a later one', async (ctx) => {
        if (!subject.holdNextCommit) {
          ctx.skip(`${name} appends cannot be held open before commit`);
          return;
        }
        const prefix = unique('late');
        const mine = (e: RecordedEvent) => e.stream.startsWith(prefix);
        await store.append([{ stream: `${prefix}-first`, expected: 'no_stream', events: events(1) }]);
        const start = (await readOnceVisible(store, mine, 1)).filter(mine)[0]!.checkpoint;
        const subscription = collect(store, { after: start, mine, done: (got) => got.length === 2 });

        const held = subject.holdNextCommit();
        const late = store.append([{ stream: `${prefix}-a`, expected: 'no_stream', events: events(1) }]);
        await held.reached;
        await store.append([{ stream: `${prefix}-b`, expected: 'no_stream', events: events(1) }]);
        // A reader that has seen everything readable so far must still see A once it commits.
        const seen = (await readEverything(store, start)).filter(mine);
        const resumeAt = seen.at(-1)?.checkpoint ?? start;
        held.release();
        await late;

        const { got, checkpoints } = await subscription;
        expect(got.map((e) => e.stream).sort()).toEqual([`${prefix}-a`, `${prefix}-b`]);
        expectIncreasing(checkpoints);
        const resumed = (await readEverything(store, resumeAt)).filter(mine);
        expect([...seen, ...resumed].map((e) => e.stream).sort()).toEqual([`${prefix}-a`, `${prefix}-b`]);
      });
    });
  });
}
