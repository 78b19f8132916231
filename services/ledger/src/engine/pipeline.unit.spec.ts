import { describe, expect, it } from 'vitest';
import { accountStream } from '../domain/accounts.ts';
import type { TransferRequest } from '../domain/transfers.ts';
import { accounts, request } from '../domain/__fixtures__/ledger.ts';
import { type EventStore, type StreamAppend, WrongExpectedRevisionError } from '../store/event-store.ts';
import { createMemoryEventStore } from '../store/memory-store.ts';
import { createLedger } from './ledger.ts';
import type { LedgerEngine } from './types.ts';

const penalty = (amount: number, overrides: Partial<TransferRequest> = {}) =>
  request({
    debit_account: accounts.user,
    credit_account: accounts.revenue,
    amount,
    code: 'penalty',
    ...overrides,
  });

/**
 * A memory store whose appends wait at a gate once it is closed: the test decides when each held
 * append reaches the store, and whether it fails there instead (writing nothing).
 */
function gatedStore() {
  const store = createMemoryEventStore();
  const append = store.append.bind(store);
  const held: { appends: StreamAppend[]; release: (failure?: Error) => void }[] = [];
  let closed = false;
  const gated: EventStore = {
    ...store,
    append: async (appends) => {
      if (!closed) return append(appends);
      const failure = await new Promise<Error | undefined>((release) => held.push({ appends, release }));
      if (failure) throw failure;
      return append(appends);
    },
  };
  return {
    store: gated,
    memory: store,
    held,
    close: () => void (closed = true),
    open: () => void (closed = false),
    /** Resolves once `count` appends wait at the gate. */
    async waitFor(count: number) {
      while (held.length < count) await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** The user holds 100 and the revenue account is open, so the batches below open no account. */
async function withUserAt100(ledger: LedgerEngine): Promise<void> {
  await ledger.transfer([request({ amount: 101 })]);
  await ledger.transfer([penalty(1)]);
}

async function available(ledger: LedgerEngine, account: string): Promise<number> {
  const state = await ledger.getAccount(account, 'USD');
  return (state?.credits_posted ?? 0) - (state?.debits_posted ?? 0);
}

describe('the pipelined writer', () => {
  it('decides the next batch while one is in flight, on the state the first left', async () => {
    const gate = gatedStore();
    const ledger = createLedger(gate.store);
    await withUserAt100(ledger);
    const before = (await ledger.getAccount(accounts.user, 'USD'))!.revision;
    gate.close();

    const first = ledger.transfer([penalty(60)]);
    await gate.waitFor(1);
    // Arrive while the first append is in flight: decided at once, on the 40 it leaves.
    const second = ledger.transfer([penalty(60)]);
    const third = ledger.transfer([penalty(40)]);
    await gate.waitFor(2);
    const user = gate.held[1]!.appends.find((a) => a.stream === accountStream(accounts.user, 'USD'));
    // Only the third wrote; it relied on the revision the first batch leaves.
    expect(user).toMatchObject({ expected: before + 1, events: [{ type: 'account-entry' }] });
    gate.open();
    gate.held[0]!.release();
    gate.held[1]!.release();

    expect(await first).toMatchObject({ ok: true, replayed: false });
    expect(await second).toMatchObject({ ok: false, rejection: { code: 'INSUFFICIENT_FUNDS' } });
    expect(await third).toMatchObject({ ok: true, replayed: false });
    expect(await available(ledger, accounts.user)).toBe(0);
    expect(ledger.stats()).toMatchObject({ batches: 4, overlapped: 1 });
  });

  it('answers a batch only after every batch before it settled', async () => {
    const gate = gatedStore();
    const ledger = createLedger(gate.store);
    await ledger.transfer([request({ amount: 100 })]);
    await ledger.transfer([request({ amount: 100, credit_account: accounts.otherUser })]);
    await ledger.transfer([penalty(1)]);
    gate.close();

    const first = ledger.transfer([penalty(10)]);
    await gate.waitFor(1);
    const second = ledger.transfer([penalty(10, { debit_account: accounts.otherUser })]);
    await gate.waitFor(2);
    let secondAnswered = false;
    void second.then(() => (secondAnswered = true));
    // The second append reaches the store first; its caller still waits for the first batch.
    gate.held[1]!.release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(secondAnswered).toBe(false);
    gate.held[0]!.release();

    expect(await first).toMatchObject({ ok: true, replayed: false });
    expect(await second).toMatchObject({ ok: true, replayed: false });
  });

  it('decides a refusal again when the batch it rested on failed, and answers it on the real state', async () => {
    const gate = gatedStore();
    const ledger = createLedger(gate.store);
    await withUserAt100(ledger);
    gate.close();

    const first = ledger.transfer([penalty(100)]);
    // Its failure is awaited below, after other appends are released: handled from now on.
    const firstFailed = first.then(
      () => undefined,
      (error: unknown) => error,
    );
    await gate.waitFor(1);
    // Decided on the first penalty's tentative state (0 left): refused, which writes nothing.
    const second = ledger.transfer([penalty(50)]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    gate.open();
    gate.held[0]!.release(new Error('connection reset'));

    expect(await firstFailed).toMatchObject({ message: 'connection reset' });
    // The first penalty never happened: 100 are there, and the second is paid from them.
    expect(await second).toMatchObject({ ok: true, replayed: false });
    expect(await available(ledger, accounts.user)).toBe(50);
  });

  it('keeps what a later batch appended when an earlier one lost a race, and decides the rest again', async () => {
    const gate = gatedStore();
    const ledger = createLedger(gate.store);
    await withUserAt100(ledger);
    await ledger.transfer([request({ amount: 100, credit_account: accounts.otherUser })]);
    gate.close();

    const retry = penalty(30, { debit_account: accounts.otherUser });
    const first = ledger.transfer([penalty(70)]);
    await gate.waitFor(1);
    const independent = ledger.transfer([retry]);
    const dependent = ledger.transfer([penalty(40)]);
    await gate.waitFor(2);

    // The second batch commits; the first loses a race (nothing written) and is decided again.
    gate.held[1]!.release();
    gate.open();
    gate.held[0]!.release(new WrongExpectedRevisionError(accountStream(accounts.user, 'USD'), 1, 2));

    expect(await first).toMatchObject({ ok: true, replayed: false });
    // Appended by the second batch, on an account the first never touched: answered as written.
    expect(await independent).toMatchObject({ ok: true, replayed: false });
    // Refused on the first's tentative 30, then decided again after it: 30 left, still refused.
    expect(await dependent).toMatchObject({ ok: false, rejection: { code: 'INSUFFICIENT_FUNDS' } });
    const created = (await gate.memory.readAll()).filter((e) => e.type === 'transfer-created');
    expect(created.filter((e) => e.data.id === retry.id)).toHaveLength(1);
    expect(await available(ledger, accounts.user)).toBe(30);
    expect(await ledger.getAccount(accounts.otherUser, 'USD')).toMatchObject({ debits_posted: 30 });
  });

  it('fails a later batch that relied on an earlier one that failed, and decides it again', async () => {
    const gate = gatedStore();
    const ledger = createLedger(gate.store);
    await withUserAt100(ledger);
    gate.close();

    const first = ledger.transfer([penalty(70)]);
    // Its failure is awaited below, after other appends are released: handled from now on.
    const firstFailed = first.then(
      () => undefined,
      (error: unknown) => error,
    );
    await gate.waitFor(1);
    // Decided on 30 left: accepted, expecting the revision the first batch would have left.
    const second = ledger.transfer([penalty(30)]);
    await gate.waitFor(2);
    gate.open();
    gate.held[0]!.release(new Error('connection reset'));
    gate.held[1]!.release();

    expect(await firstFailed).toMatchObject({ message: 'connection reset' });
    expect(await second).toMatchObject({ ok: true, replayed: false });
    expect(await available(ledger, accounts.user)).toBe(70);
  });

  it('leaves a command on an account a batch in flight opens to a later batch, and all after it, in order', async () => {
    const gate = gatedStore();
    const ledger = createLedger(gate.store);
    await ledger.transfer([request({ amount: 100 })]);
    await ledger.transfer([penalty(1)]);
    gate.close();

    // Opens otherUser's account: the store cannot check an expectation on it until this commits.
    const opening = ledger.transfer([request({ amount: 50, credit_account: accounts.otherUser })]);
    await gate.waitFor(1);
    const onOpened = ledger.transfer([penalty(50, { debit_account: accounts.otherUser })]);
    const after = ledger.transfer([penalty(10)]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Nothing of the next batch could be decided: nothing else went to the store.
    expect(gate.held).toHaveLength(1);
    gate.open();
    gate.held[0]!.release();

    expect(await opening).toMatchObject({ ok: true, replayed: false });
    expect(await onOpened).toMatchObject({ ok: true, replayed: false });
    expect(await after).toMatchObject({ ok: true, replayed: false });
    expect(await ledger.getAccount(accounts.otherUser, 'USD')).toMatchObject({
      credits_posted: 50,
      debits_posted: 50,
    });
    expect(await ledger.getAccount(accounts.user, 'USD')).toMatchObject({ debits_posted: 11 });
  });

  it('keeps no fold it built on a failed batch, even when a later append makes the revisions line up', async () => {
    const gate = gatedStore();
    const ledger = createLedger(gate.store, { pipelineDepth: 3 });
    await withUserAt100(ledger);
    gate.close();

    const first = ledger.transfer([request({ amount: 1 })]);
    // Its failure is awaited below, after other appends are released: handled from now on.
    const firstFailed = first.then(
      () => undefined,
      (error: unknown) => error,
    );
    await gate.waitFor(1);
    const second = ledger.transfer([request({ amount: 2 })]);
    await gate.waitFor(2);
    const third = ledger.transfer([request({ amount: 4 })]);
    await gate.waitFor(3);
    gate.open();
    // The first writes nothing; the third overtakes the second, whose world and user entries then
    // land exactly at the revisions it expected from the first's tentative fold.
    gate.held[0]!.release(new Error('connection reset'));
    gate.held[2]!.release();
    await new Promise((resolve) => setTimeout(resolve, 5));
    gate.held[1]!.release();

    expect(await firstFailed).toMatchObject({ message: 'connection reset' });
    expect(await second).toMatchObject({ ok: true, replayed: false });
    expect(await third).toMatchObject({ ok: true, replayed: false });
    const truth = createLedger(gate.memory);
    for (const account of [accounts.world, accounts.user]) {
      expect(await ledger.getAccount(account, 'USD')).toEqual(await truth.getAccount(account, 'USD'));
    }
    expect(await available(ledger, accounts.user)).toBe(106);
  });

  it('with pipelineDepth 1, never has two appends in flight', async () => {
    const gate = gatedStore();
    const ledger = createLedger(gate.store, { pipelineDepth: 1 });
    await ledger.transfer([request({ amount: 100 })]);
    gate.close();
    const first = ledger.transfer([penalty(10)]);
    await gate.waitFor(1);
    const second = ledger.transfer([penalty(10)]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(gate.held).toHaveLength(1);
    gate.open();
    gate.held[0]!.release();
    await Promise.all([first, second]);
    expect(ledger.stats().overlapped).toBe(0);
  });
});
