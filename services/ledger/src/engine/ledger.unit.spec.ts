import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { accountStream, transferStream } from '../domain/accounts.ts';
import { InvalidRequestError, LedgerContentionError, LedgerInvariantError } from '../domain/errors.ts';
import type { TransferRequest } from '../domain/transfers.ts';
import { accounts, request } from '../domain/__fixtures__/ledger.ts';
import { type EventStore, type StreamAppend, WrongExpectedRevisionError } from '../store/event-store.ts';
import { createMemoryEventStore } from '../store/memory-store.ts';
import { createLedger } from './ledger.ts';

const userStream = accountStream(accounts.user, 'USD');
const penalty = (amount: number, overrides: Partial<TransferRequest> = {}) =>
  request({
    debit_account: accounts.user,
    credit_account: accounts.revenue,
    amount,
    code: 'penalty',
    ...overrides,
  });

/** A memory store that records every append it is asked for (including refused ones). */
function recordingStore() {
  const store = createMemoryEventStore();
  const appends: StreamAppend[][] = [];
  const append = store.append.bind(store);
  store.append = async (request) => {
    appends.push(structuredClone(request));
    return append(request);
  };
  return { store, appends };
}

function fixedClock(iso = '2030-01-01T00:00:00.000Z') {
  let now = new Date(iso);
  return {
    clock: () => now,
    advance(seconds: number) {
      now = new Date(now.getTime() + seconds * 1000);
    },
  };
}

describe('the ledger engine', () => {
  it('writes a command as one append: new streams at no_stream, a constrained debit at its revision, the rest at exists', async () => {
    const { store, appends } = recordingStore();
    const ledger = createLedger(store);
    await ledger.transfer([request({ amount: 1000 })]);
    await ledger.transfer([request({ credit_account: accounts.revenue, amount: 1 })]);
    appends.length = 0;

    const fine = penalty(300);
    const outcome = await ledger.transfer([fine]);

    expect(outcome).toMatchObject({
      ok: true,
      replayed: false,
      transfers: [{ id: fine.id, state: 'posted' }],
    });
    expect(appends).toHaveLength(1);
    expect(
      appends[0]!.map(({ stream, expected, events }) => [stream, expected, events.map((e) => e.type)]),
    ).toEqual([
      [transferStream(fine.id), 'no_stream', ['transfer-created']],
      [userStream, 1, ['account-entry']],
      [accountStream(accounts.revenue, 'USD'), 'exists', ['account-entry']],
    ]);
    expect(await ledger.getAccount(accounts.user, 'USD')).toMatchObject({
      credits_posted: 1000,
      debits_posted: 300,
      revision: 2,
      kind: 'user_available',
    });
    expect(await ledger.getTransfer(fine.id)).toMatchObject({ id: fine.id, amount: 300, state: 'posted' });
    expect(await ledger.getTransfer(randomUUID())).toBeUndefined();
    expect(await ledger.getAccount(accounts.otherUser, 'USD')).toBeUndefined();
  });

  it('refuses with a value and writes nothing', async () => {
    const { store, appends } = recordingStore();
    const ledger = createLedger(store);
    const outcome = await ledger.transfer([penalty(1)]);
    expect(outcome).toMatchObject({ ok: false, rejection: { code: 'INSUFFICIENT_FUNDS' } });
    expect(appends).toHaveLength(0);
  });

  it('throws InvalidRequestError for a malformed command or resolution', async () => {
    const ledger = createLedger(createMemoryEventStore());
    await expect(ledger.transfer([])).rejects.toThrow(InvalidRequestError);
    await expect(ledger.transfer([request({ currency: 'dollars' })])).rejects.toThrow(InvalidRequestError);
    await expect(ledger.resolve({ pending_id: randomUUID(), action: 'cancel' as 'void' })).rejects.toThrow(
      InvalidRequestError,
    );
  });

  it('replays the same id and body, and refuses another body, without writing', async () => {
    const { store, appends } = recordingStore();
    const ledger = createLedger(store);
    const topup = request({ amount: 500 });
    const first = await ledger.transfer([topup]);
    appends.length = 0;

    expect(await ledger.transfer([topup])).toEqual({ ...first, replayed: true });
    expect(await ledger.transfer([{ ...topup, amount: 501 }])).toMatchObject({
      ok: false,
      rejection: { code: 'IDEMPOTENCY_CONFLICT', transfer_id: topup.id },
    });
    expect(appends).toHaveLength(0);
    expect((await ledger.getAccount(accounts.user, 'USD'))?.credits_posted).toBe(500);
  });

  it('posts, voids and expires pending transfers on the clock it was given', async () => {
    const time = fixedClock();
    const ledger = createLedger(createMemoryEventStore(), { clock: time.clock });
    await ledger.transfer([request({ amount: 1000 })]);
    const [a, b, c] = [
      penalty(100, { pending: { timeout_seconds: 30 } }),
      penalty(200, { pending: { timeout_seconds: 30 } }),
      penalty(300, { pending: { timeout_seconds: 30 } }),
    ];
    for (const hold of [a, b, c]) expect((await ledger.transfer([hold])).ok).toBe(true);
    expect(await ledger.getAccount(accounts.user, 'USD')).toMatchObject({ debits_pending: 600 });

    expect(await ledger.resolve({ pending_id: a.id, action: 'post' })).toMatchObject({
      ok: true,
      transfer: { state: 'posted' },
    });
    expect(await ledger.resolve({ pending_id: b.id, action: 'void' })).toMatchObject({
      ok: true,
      transfer: { state: 'voided' },
    });
    expect(await ledger.expire(c.id)).toMatchObject({
      ok: false,
      rejection: { code: 'PENDING_NOT_EXPIRED' },
    });
    time.advance(30);
    expect(await ledger.expire(c.id)).toMatchObject({
      ok: true,
      replayed: false,
      transfer: { state: 'expired' },
    });
    expect(await ledger.expire(c.id)).toMatchObject({ ok: true, replayed: true });
    expect(await ledger.resolve({ pending_id: a.id, action: 'post' })).toMatchObject({
      ok: true,
      replayed: true,
    });
    expect(await ledger.resolve({ pending_id: a.id, action: 'void' })).toMatchObject({
      ok: false,
      rejection: { code: 'PENDING_NOT_PENDING' },
    });
    expect(await ledger.getAccount(accounts.user, 'USD')).toMatchObject({
      debits_pending: 0,
      debits_posted: 100,
    });
    expect(await ledger.getAccount(accounts.revenue, 'USD')).toMatchObject({
      credits_pending: 0,
      credits_posted: 100,
    });
  });

  it('expires at the time the caller gives', async () => {
    const ledger = createLedger(createMemoryEventStore(), { clock: fixedClock().clock });
    await ledger.transfer([request({ amount: 1000 })]);
    const hold = penalty(100, { pending: { timeout_seconds: 30 } });
    await ledger.transfer([hold]);
    expect(await ledger.expire(hold.id, new Date('2030-01-01T00:00:30.000Z'))).toMatchObject({ ok: true });
  });

  it('decides from the accounts it holds without reading them, and catches them up from the revision it holds', async () => {
    const store = createMemoryEventStore();
    const ledger = createLedger(store);
    for (let i = 0; i < 5; i += 1) await ledger.transfer([request({ amount: 10 })]);
    const other = createLedger(store);
    await other.transfer([request({ amount: 10 })]);

    // world is unconstrained: the writer appends to it at `exists` without reading it first.
    const reads = vi.spyOn(store, 'readStream');
    await ledger.transfer([request({ amount: 10 })]);
    const worldStream = accountStream(accounts.world, 'USD');
    expect(reads.mock.calls.filter(([stream]) => stream === worldStream)).toEqual([]);
    // The cache holds world as of before the other engine’s append (revision 5): it reads only what follows.
    expect(await ledger.getAccount(accounts.world, 'USD')).toMatchObject({ debits_posted: 70, revision: 7 });
    expect(reads.mock.calls.filter(([stream]) => stream === worldStream)).toEqual([
      [worldStream, { fromRevision: 6, limit: 1000 }],
    ]);
  });

  it('folds a long stream page by page', async () => {
    const store = createMemoryEventStore();
    await createLedger(store).transfer([request({ amount: 1 })]);
    const entry = (await store.readStream(userStream))[1]!;
    await store.append([
      {
        stream: userStream,
        expected: 1,
        events: Array.from({ length: 1204 }, () => ({
          id: randomUUID(),
          type: entry.type,
          data: entry.data,
        })),
      },
    ]);
    const reads = vi.spyOn(store, 'readStream');

    const reader = createLedger(store);
    expect(await reader.getAccount(accounts.user, 'USD')).toMatchObject({
      credits_posted: 1205,
      revision: 1205,
    });
    expect(reads.mock.calls.map(([, options]) => options)).toEqual([
      { fromRevision: 0, limit: 1000 },
      { fromRevision: 1000, limit: 1000 },
    ]);
  });

  it('fails closed on a stream it could not have written', async () => {
    const store = createMemoryEventStore();
    await store.append([
      {
        stream: userStream,
        expected: 'no_stream',
        events: [{ id: randomUUID(), type: 'account-entry', data: { nonsense: true } }],
      },
    ]);
    const ledger = createLedger(store);
    await expect(ledger.getAccount(accounts.user, 'USD')).rejects.toThrow(LedgerInvariantError);
    await expect(ledger.transfer([request()])).rejects.toThrow(LedgerInvariantError);
  });

  it('gives up with LedgerContentionError after maxRetries lost races, having written nothing', async () => {
    const store = createMemoryEventStore();
    const losing: EventStore = {
      ...store,
      append: async (appends) => {
        throw new WrongExpectedRevisionError(appends[0]!.stream, 'no_stream', 0);
      },
    };
    const ledger = createLedger(losing, { maxRetries: 3 });
    const attempt = ledger.transfer([request()]);
    await expect(attempt).rejects.toThrow(LedgerContentionError);
    await expect(attempt).rejects.toThrow(/after 3 retries/);
  });

  it('passes store failures through', async () => {
    const store = createMemoryEventStore();
    const broken: EventStore = {
      ...store,
      append: async () => {
        throw new Error('connection reset');
      },
    };
    await expect(createLedger(broken).transfer([request()])).rejects.toThrow('connection reset');
  });
});

describe('the ledger engine under concurrency (memory store)', () => {
  async function funded(store: EventStore, amount: number) {
    const ledger = createLedger(store);
    expect((await ledger.transfer([request({ amount })])).ok).toBe(true);
  }

  it.each([1, 2, 5])(
    'lets exactly 10 of 50 concurrent penalties of 1000 through an available 10000 (%i engines)',
    async (engines) => {
      const store = createMemoryEventStore();
      await funded(store, 10_000);
      const ledgers = Array.from({ length: engines }, () => createLedger(store));
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ledgers[i % engines]!.transfer([penalty(1000)])),
      );

      expect(outcomes.filter((o) => o.ok)).toHaveLength(10);
      expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.rejection.code)).toEqual(
        Array(40).fill('INSUFFICIENT_FUNDS'),
      );
      expect(await createLedger(store).getAccount(accounts.user, 'USD')).toMatchObject({
        credits_posted: 10_000,
        debits_posted: 10_000,
        debits_pending: 0,
      });
    },
  );

  it('records one transfer for 20 concurrent identical requests, all of them successes', async () => {
    const store = createMemoryEventStore();
    const ledgers = [createLedger(store), createLedger(store)];
    const topup = request({ amount: 700 });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ledgers[i % 2]!.transfer([{ ...topup }])),
    );

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes.filter((o) => o.ok && !o.replayed)).toHaveLength(1);
    expect(store.all().filter((e) => e.type === 'transfer-created')).toHaveLength(1);
    expect((await ledgers[0]!.getAccount(accounts.user, 'USD'))?.credits_posted).toBe(700);
  });

  it('lets exactly one of a racing post and void win', async () => {
    const store = createMemoryEventStore();
    await funded(store, 1000);
    const [a, b] = [createLedger(store), createLedger(store)];
    const hold = penalty(400, { pending: { timeout_seconds: null } });
    await a.transfer([hold]);

    const [post, voided] = await Promise.all([
      a.resolve({ pending_id: hold.id, action: 'post' }),
      b.resolve({ pending_id: hold.id, action: 'void' }),
    ]);
    const winners = [post, voided].filter((o) => o.ok);
    expect(winners).toHaveLength(1);
    expect([post, voided].find((o) => !o.ok)).toMatchObject({ rejection: { code: 'PENDING_NOT_PENDING' } });
    const user = await a.getAccount(accounts.user, 'USD');
    expect(user?.debits_pending).toBe(0);
    expect(user?.debits_posted).toBe(post.ok ? 400 : 0);
  });
});
