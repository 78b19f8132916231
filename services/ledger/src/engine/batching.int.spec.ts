import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds } from '../domain/accounts.ts';
import type { TransferRequest } from '../domain/transfers.ts';
import type { EventStore } from '../store/event-store.ts';
import { createPostgresEventStore } from '../store/postgres-store.ts';
import { countingConflicts } from './__fixtures__/counting-store.ts';
import { createLedger } from './ledger.ts';

/**
 * The batching writer on the real Postgres store: batches form under concurrency, two writers on
 * one store never break a constraint, and a crash between a batch's append and its answers loses
 * nothing and doubles nothing.
 */

let database: { url: string; drop(): Promise<void> };
const stores: EventStore[] = [];

async function store(): Promise<EventStore> {
  const created = await createPostgresEventStore({
    db: database.url,
    poolSize: 8,
    migrate: stores.length === 0,
  });
  stores.push(created);
  return created;
}

beforeAll(async () => {
  database = await createTestDatabase('ledger_batching');
  await store();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await database?.drop();
});

const topup = (credit: string, amount: number): TransferRequest => ({
  id: randomUUID(),
  debit_account: accountIds.world,
  credit_account: credit,
  amount,
  currency: 'USD',
  code: 'topup',
});
const penalty = (debit: string, amount: number): TransferRequest => ({
  id: randomUUID(),
  debit_account: debit,
  credit_account: accountIds.platformRevenue,
  amount,
  currency: 'USD',
  code: 'penalty',
});
const available = (
  a: { credits_posted: number; debits_posted: number; debits_pending: number } | undefined,
) => (a ? a.credits_posted - a.debits_posted - a.debits_pending : 0);

describe('the batching writer on Postgres', () => {
  it('decides 50 concurrent penalties against 100.00 in batches: exactly 10 posted', async () => {
    const ledger = createLedger(stores[0]!);
    const user = accountIds.userAvailable(randomUUID());
    expect((await ledger.transfer([topup(user, 10_000)])).ok).toBe(true);
    const before = ledger.stats();

    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => ledger.transfer([penalty(user, 1000)])),
    );

    expect(outcomes.filter((o) => o.ok)).toHaveLength(10);
    expect(new Set(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.rejection.code))).toEqual(
      new Set(['INSUFFICIENT_FUNDS']),
    );
    const stats = ledger.stats();
    expect(stats.largest).toBeGreaterThan(1);
    expect(stats.batches - before.batches).toBeLessThan(50);
    expect(available(await createLedger(await store()).getAccount(user, 'USD'))).toBe(0);
  });

  it('lets two writers on one store race over shared accounts without breaking a constraint', async () => {
    const counted = { conflicts: 0 };
    const writers = [
      createLedger(countingConflicts(await store(), counted)),
      createLedger(countingConflicts(await store(), counted)),
    ];
    const users = Array.from({ length: 4 }, () => accountIds.userAvailable(randomUUID()));
    for (const user of users) expect((await writers[0]!.transfer([topup(user, 5_000)])).ok).toBe(true);

    // Each writer: penalties and transfers between the users, all at once; batches form on both.
    const commands = Array.from({ length: 400 }, (_, i) => {
      const writer = writers[i % 2]!;
      const from = users[i % users.length]!;
      const to = users[(i * 7 + 1) % users.length]!;
      if (i % 3 === 0 || from === to) return writer.transfer([penalty(from, 70)]);
      return writer.transfer([{ ...penalty(from, 90), credit_account: to, code: 'refund' }]);
    });
    const outcomes = await Promise.all(commands);

    const moved = outcomes.flatMap((o) => (o.ok ? o.transfers : []));
    const reader = createLedger(await store());
    let total = 0;
    for (const user of users) {
      const account = await reader.getAccount(user, 'USD');
      expect(available(account)).toBeGreaterThanOrEqual(0);
      expect(account?.debits_posted).toBeLessThanOrEqual(account?.credits_posted ?? 0);
      total += available(account);
    }
    const penalties = moved.filter((t) => t.code === 'penalty').reduce((sum, t) => sum + t.amount, 0);
    expect(total).toBe(4 * 5_000 - penalties);
    expect(
      outcomes.filter((o) => !o.ok).every((o) => !o.ok && o.rejection.code === 'INSUFFICIENT_FUNDS'),
    ).toBe(true);
    expect(writers.map((w) => w.stats().largest).every((largest) => largest > 1)).toBe(true);
    console.info(
      `two writers: ${moved.length} moved, ${outcomes.length - moved.length} refused, ${counted.conflicts} lost races, ` +
        `batches ${JSON.stringify(writers.map((w) => w.stats()))}`,
    );
  });

  it('loses nothing when killed between a batch’s append and its answers: retries are answered from the store, once', async () => {
    const user = accountIds.userAvailable(randomUUID());
    const transfers = Array.from({ length: 30 }, (_, i) => topup(user, 100 + i));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./__fixtures__/crashing-writer.ts', import.meta.url))],
      { env: { ...process.env, DATABASE_URL: database.url, TRANSFERS: JSON.stringify(transfers) } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, killed) => resolve(killed)),
    );
    expect(signal, output).toBe('SIGKILL');
    expect(output).toMatch(/^appended \d+\n$/);
    const appended = Number(/appended (\d+)/.exec(output)?.[1]);
    expect(appended).toBeGreaterThan(0);

    // A new process: each caller retries its transfer. Those the dead batch committed are replays.
    const ledger = createLedger(await store());
    const retried = await Promise.all(transfers.map((transfer) => ledger.transfer([transfer])));
    expect(retried.every((o) => o.ok)).toBe(true);
    expect(retried.filter((o) => o.ok && o.replayed)).toHaveLength(appended);
    retried.forEach((o, i) => expect(o.ok && o.transfers[0]?.amount).toBe(transfers[i]!.amount));
    const again = await Promise.all(transfers.map((transfer) => ledger.transfer([transfer])));
    expect(again.every((o) => o.ok && o.replayed)).toBe(true);
    const account = await createLedger(await store()).getAccount(user, 'USD');
    expect(account?.credits_posted).toBe(transfers.reduce((sum, t) => sum + t.amount, 0));
  });

  it('when the batch in flight rolls back, keeps what the next one wrote and decides its refusals again on the real state', async () => {
    const hooks: { beforeCommit?: () => Promise<void> } = {};
    const held = await createPostgresEventStore({ db: database.url, poolSize: 8, hooks });
    stores.push(held);
    const ledger = createLedger(held);
    const user = accountIds.userAvailable(randomUUID());
    const other = accountIds.userAvailable(randomUUID());
    expect(await ledger.transfer([topup(user, 100)])).toMatchObject({ ok: true });
    expect(await ledger.transfer([topup(other, 100)])).toMatchObject({ ok: true });
    expect(await ledger.transfer([penalty(user, 1)])).toMatchObject({ ok: true });

    let reached!: () => void;
    let fail!: () => void;
    const atCommit = new Promise<void>((resolve) => (reached = resolve));
    const failing = new Promise<void>((resolve) => (fail = resolve));
    hooks.beforeCommit = async () => {
      delete hooks.beforeCommit;
      reached();
      await failing;
      throw new Error('connection reset');
    };
    const first = ledger.transfer([penalty(user, 60)]);
    // Its failure is awaited below, after other appends are released: handled from now on.
    const firstFailed = first.then(
      () => undefined,
      (error: unknown) => error,
    );
    await atCommit;
    // The next batch: a penalty on another wallet (its append waits for the first's lock on the
    // revenue account, then commits), and one refused on the 39 the first would leave.
    const second = penalty(other, 30);
    const third = penalty(user, 50);
    const answers = Promise.all([ledger.transfer([second]), ledger.transfer([third])]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    fail();

    expect(await firstFailed).toMatchObject({ message: 'connection reset' });
    // The first penalty never happened: the second stands as written, and the third is paid from 99.
    expect(await answers).toMatchObject([
      { ok: true, replayed: false },
      { ok: true, replayed: false },
    ]);
    const truth = createLedger(await store());
    expect(available(await truth.getAccount(user, 'USD'))).toBe(49);
    expect(available(await truth.getAccount(other, 'USD'))).toBe(70);
    expect(available(await ledger.getAccount(user, 'USD'))).toBe(49);
    expect(ledger.stats().overlapped).toBeGreaterThan(0);
  });
});
