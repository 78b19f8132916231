import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds, transferStream } from '../domain/accounts.ts';
import type { TransferRequest } from '../domain/transfers.ts';
import type { EventStore } from '../store/event-store.ts';
import { createPostgresEventStore } from '../store/postgres-store.ts';
import { countingConflicts } from './__fixtures__/counting-store.ts';
import { createLedger, type LedgerOptions } from './ledger.ts';
import type { LedgerEngine } from './types.ts';

/**
 * The write side on the real Postgres store. Engines stand for processes: each has its own account
 * cache and in-process lock, and they alternate between two store instances (two pools), so only
 * the store's expected revisions stand between them.
 */

let database: { url: string; drop(): Promise<void> };
const stores: EventStore[] = [];
const pools: EventStore[] = [];
const counted = { conflicts: 0 };

/** A store of its own (its own pool), counting the optimistic-concurrency conflicts it reports. */
async function counting(): Promise<EventStore> {
  const store = await createPostgresEventStore({ db: database.url, poolSize: 16 });
  stores.push(store);
  return countingConflicts(store, counted);
}

async function engines(count: number, options?: LedgerOptions): Promise<LedgerEngine[]> {
  return Array.from({ length: count }, (_, i) => createLedger(pools[i % pools.length]!, options));
}

beforeAll(async () => {
  database = await createTestDatabase('ledger_engine');
  stores.push(await createPostgresEventStore({ db: database.url, migrate: true }));
  pools.push(await counting(), await counting());
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await database?.drop();
});

/** Every test works on accounts of its own. */
function fresh() {
  const user = accountIds.userAvailable(randomUUID());
  const company = accountIds.companyCredits(randomUUID());
  const campaign = accountIds.campaignBudget(randomUUID());
  const topup = (credit: string, amount: number): TransferRequest => ({
    id: randomUUID(),
    debit_account: accountIds.world,
    credit_account: credit,
    amount,
    currency: 'USD',
    code: 'topup',
  });
  const penalty = (amount: number, overrides: Partial<TransferRequest> = {}): TransferRequest => ({
    id: randomUUID(),
    debit_account: user,
    credit_account: accountIds.platformRevenue,
    amount,
    currency: 'USD',
    code: 'penalty',
    ...overrides,
  });
  return { user, company, campaign, topup, penalty };
}

const available = (
  a: { credits_posted: number; debits_posted: number; debits_pending: number } | undefined,
) => (a ? a.credits_posted - a.debits_posted - a.debits_pending : 0);

describe('the concurrency case: 50 concurrent penalties of 10.00 against an available 100.00', () => {
  it.each([
    ['one engine', 1],
    ['two engines on two pools (two processes)', 2],
    ['fifty engines, one penalty each: no in-process lock at all, only the store', 50],
  ])('%s: exactly 10 posted and the balance at 0', async (_name, count) => {
    const ledgers = await engines(count);
    const { user, topup, penalty } = fresh();
    expect((await ledgers[0]!.transfer([topup(user, 10_000)])).ok).toBe(true);
    const conflictsBefore = counted.conflicts;

    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ledgers[i % count]!.transfer([penalty(1000)])),
    );

    expect(outcomes.filter((o) => o.ok)).toHaveLength(10);
    expect(new Set(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.rejection.code))).toEqual(
      new Set(['INSUFFICIENT_FUNDS']),
    );
    const account = await (await engines(1))[0]!.getAccount(user, 'USD');
    expect(account).toMatchObject({ credits_posted: 10_000, debits_posted: 10_000, debits_pending: 0 });
    expect(available(account)).toBe(0);
    // With one engine the in-process lock queues the penalties; across engines the store refuses
    // every stale write, and the engines retry.
    console.info(`${count} engine(s): ${counted.conflicts - conflictsBefore} conflicts`);
    if (count === 1) expect(counted.conflicts).toBe(conflictsBefore);
    if (count === 50) expect(counted.conflicts).toBeGreaterThan(conflictsBefore);
  });

  it('keeps the balance exact with penalties, holds and top-ups racing on two processes', async () => {
    const ledgers = await engines(4);
    const { user, topup, penalty } = fresh();
    await ledgers[0]!.transfer([topup(user, 5000)]);

    const commands = Array.from({ length: 60 }, (_, i) => {
      const ledger = ledgers[i % 4]!;
      if (i % 3 === 0) return ledger.transfer([topup(user, 100)]);
      if (i % 3 === 1) return ledger.transfer([penalty(300, { pending: { timeout_seconds: null } })]);
      return ledger.transfer([penalty(300)]);
    });
    const outcomes = await Promise.all(commands);

    const moved = outcomes.flatMap((o) => (o.ok ? o.transfers : []));
    const credited = 5000 + moved.filter((t) => t.code === 'topup').reduce((s, t) => s + t.amount, 0);
    const debited = moved.filter((t) => t.code === 'penalty').reduce((s, t) => s + t.amount, 0);
    const account = await ledgers[1]!.getAccount(user, 'USD');
    expect(account?.credits_posted).toBe(credited);
    expect((account?.debits_posted ?? 0) + (account?.debits_pending ?? 0)).toBe(debited);
    expect(available(account)).toBeGreaterThanOrEqual(0);
    expect(available(account)).toBeLessThan(300);
  });
});

describe('idempotency under concurrency', () => {
  it('records one transfer for 20 concurrent identical requests on two processes, all successes', async () => {
    const ledgers = await engines(2);
    const { user, topup } = fresh();
    const request = topup(user, 700);

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ledgers[i % 2]!.transfer([{ ...request }])),
    );

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes.filter((o) => o.ok && !o.replayed)).toHaveLength(1);
    expect(new Set(outcomes.map((o) => o.ok && o.transfers[0]!.created_at)).size).toBe(1);
    expect(await stores[0]!.readStream(transferStream(request.id))).toHaveLength(1);
    expect((await ledgers[0]!.getAccount(user, 'USD'))?.credits_posted).toBe(700);
  });

  it('lets one body win for an id raced with two bodies; every other body is a conflict', async () => {
    const ledgers = await engines(2);
    const { user, topup } = fresh();
    const first = topup(user, 100);
    const second = { ...first, amount: 200 };

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ledgers[i % 2]!.transfer([i % 4 < 2 ? { ...first } : { ...second }]),
      ),
    );

    const winner = outcomes.find((o) => o.ok && !o.replayed);
    if (!winner?.ok) throw new Error('no request won');
    const amount = winner.transfers[0]!.amount;
    outcomes.forEach((o, i) => {
      const body = i % 4 < 2 ? first : second;
      if (body.amount === amount) expect(o.ok).toBe(true);
      else
        expect(o).toMatchObject({
          ok: false,
          rejection: { code: 'IDEMPOTENCY_CONFLICT', transfer_id: first.id },
        });
    });
    expect((await ledgers[1]!.getAccount(user, 'USD'))?.credits_posted).toBe(amount);
  });
});

describe('a retry of a transfer the engine does not hold (recorded before a restart, or dropped from its cache)', () => {
  it('replays a hold recorded before a restart, though the hold itself now uses the balance its retry would need', async () => {
    const { user, topup, penalty } = fresh();
    const [before] = await engines(1);
    await before!.transfer([topup(user, 100)]);
    const hold = penalty(100, { pending: { timeout_seconds: null } });
    expect(await before!.transfer([hold])).toMatchObject({ ok: true, replayed: false });

    // The restart: a new engine over the same store, its caches empty.
    const restarted = createLedger(pools[1]!);
    expect(await restarted.transfer([{ ...hold }])).toMatchObject({
      ok: true,
      replayed: true,
      transfers: [{ id: hold.id, amount: 100, state: 'pending' }],
    });
    // Another body under the recorded id is a conflict, not a balance refusal; a new debit is refused.
    expect(await createLedger(pools[0]!).transfer([{ ...hold, amount: 50 }])).toMatchObject({
      ok: false,
      rejection: { code: 'IDEMPOTENCY_CONFLICT', transfer_id: hold.id },
    });
    expect(await restarted.transfer([penalty(1)])).toMatchObject({
      ok: false,
      rejection: { code: 'INSUFFICIENT_FUNDS' },
    });
    expect(await stores[0]!.readStream(transferStream(hold.id))).toHaveLength(1);
    expect(await restarted.getAccount(user, 'USD')).toMatchObject({ debits_pending: 100, debits_posted: 0 });
  });

  it('replays a linked chain one of whose transfers its cache dropped', async () => {
    const { user, company, topup, penalty } = fresh();
    const [ledger] = await engines(1, { maxCachedTransfers: 1 });
    await ledger!.transfer([topup(user, 100)]);
    const chain = [penalty(60), penalty(40, { credit_account: company })];
    expect(await ledger!.transfer(chain)).toMatchObject({ ok: true, replayed: false });
    // The cache holds one transfer: the chain's last. Its first looks new, so the chain a conflict.

    expect(await ledger!.transfer(chain.map((t) => ({ ...t })))).toMatchObject({
      ok: true,
      replayed: true,
      transfers: [{ id: chain[0]!.id }, { id: chain[1]!.id }],
    });
    expect((await ledger!.getAccount(user, 'USD'))?.debits_posted).toBe(100);
  });

  it('replays a hold its cache dropped', async () => {
    const { user, company, topup, penalty } = fresh();
    const [ledger] = await engines(1, { maxCachedTransfers: 1 });
    await ledger!.transfer([topup(user, 100)]);
    const hold = penalty(100, { pending: { timeout_seconds: null } });
    await ledger!.transfer([hold]);
    await ledger!.transfer([topup(company, 1)]);

    expect(await ledger!.transfer([{ ...hold }])).toMatchObject({ ok: true, replayed: true });
    expect(await ledger!.getAccount(user, 'USD')).toMatchObject({ debits_pending: 100 });
  });
});

describe('linked chains on the store', () => {
  it('record nothing of a chain whose second transfer fails', async () => {
    const [ledger] = await engines(1);
    const { company, campaign, topup } = fresh();
    await ledger!.transfer([topup(company, 10_500)]);
    const funding: TransferRequest = {
      id: randomUUID(),
      debit_account: company,
      credit_account: campaign,
      amount: 10_000,
      currency: 'USD',
      code: 'campaign_funding',
    };
    const fee: TransferRequest = {
      ...funding,
      id: randomUUID(),
      credit_account: accountIds.platformRevenue,
      amount: 1000,
      code: 'platform_fee',
    };

    const outcome = await ledger!.transfer([funding, fee]);

    expect(outcome).toMatchObject({
      ok: false,
      rejection: { code: 'INSUFFICIENT_FUNDS', transfer_id: fee.id },
    });
    expect(await stores[0]!.readStream(transferStream(funding.id))).toEqual([]);
    expect(await stores[0]!.readStream(transferStream(fee.id))).toEqual([]);
    expect(await ledger!.getAccount(company, 'USD')).toMatchObject({
      credits_posted: 10_500,
      debits_posted: 0,
    });
    expect(await ledger!.getAccount(campaign, 'USD')).toBeUndefined();
  });

  it('let exactly one of two racing chains spend funds that cover only one, all or nothing', async () => {
    const ledgers = await engines(2);
    const { company, topup } = fresh();
    await ledgers[0]!.transfer([topup(company, 1100)]);
    const chain = () => {
      const campaign = accountIds.campaignBudget(randomUUID());
      const funding: TransferRequest = {
        id: randomUUID(),
        debit_account: company,
        credit_account: campaign,
        amount: 1000,
        currency: 'USD',
        code: 'campaign_funding',
      };
      return [
        funding,
        {
          ...funding,
          id: randomUUID(),
          credit_account: accountIds.platformRevenue,
          amount: 100,
          code: 'platform_fee' as const,
        },
      ];
    };
    const chains = Array.from({ length: 6 }, chain);

    const outcomes = await Promise.all(chains.map((c, i) => ledgers[i % 2]!.transfer(c)));

    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    for (const [i, o] of outcomes.entries()) {
      const recorded = await Promise.all(chains[i]!.map((t) => stores[0]!.readStream(transferStream(t.id))));
      expect(recorded.map((events) => events.length)).toEqual(o.ok ? [1, 1] : [0, 0]);
    }
    expect(await ledgers[1]!.getAccount(company, 'USD')).toMatchObject({
      debits_posted: 1100,
      credits_posted: 1100,
    });
  });
});

describe('pending transfers racing on the store', () => {
  it('let exactly one of a post and a void win, ten times over', async () => {
    const [a, b] = await engines(2);
    const { user, topup, penalty } = fresh();
    await a!.transfer([topup(user, 10_000)]);
    const holds = Array.from({ length: 10 }, () => penalty(500, { pending: { timeout_seconds: null } }));
    for (const hold of holds) expect((await a!.transfer([hold])).ok).toBe(true);

    const results = await Promise.all(
      holds.map((hold) =>
        Promise.all([
          a!.resolve({ pending_id: hold.id, action: 'post' }),
          b!.resolve({ pending_id: hold.id, action: 'void' }),
        ]),
      ),
    );

    let posted = 0;
    for (const [post, voided] of results) {
      expect([post.ok, voided.ok].filter(Boolean)).toHaveLength(1);
      expect([post, voided].find((o) => !o.ok)).toMatchObject({ rejection: { code: 'PENDING_NOT_PENDING' } });
      if (post.ok) posted += 1;
    }
    for (const hold of holds) expect(await stores[0]!.readStream(transferStream(hold.id))).toHaveLength(2);
    expect(await b!.getAccount(user, 'USD')).toMatchObject({
      debits_pending: 0,
      debits_posted: posted * 500,
    });
  });

  it('let exactly one of an expiry and a post win when the two processes disagree about the time', async () => {
    const start = new Date('2030-01-01T00:00:00.000Z');
    const [writer] = await engines(1, { clock: () => start });
    const { user, topup, penalty } = fresh();
    await writer!.transfer([topup(user, 1000)]);
    const hold = penalty(400, { pending: { timeout_seconds: 60 } });
    await writer!.transfer([hold]);
    const [late] = await engines(1, { clock: () => new Date('2030-01-01T00:01:00.000Z') });
    const [early] = await engines(1, { clock: () => new Date('2030-01-01T00:00:59.000Z') });

    const [expired, posted] = await Promise.all([
      late!.expire(hold.id),
      early!.resolve({ pending_id: hold.id, action: 'post' }),
    ]);

    expect([expired.ok, posted.ok].filter(Boolean)).toHaveLength(1);
    const account = await writer!.getAccount(user, 'USD');
    expect(account).toMatchObject({ debits_pending: 0, debits_posted: posted.ok ? 400 : 0 });
  });
});

describe('the store after all of the above', () => {
  it('holds double entry per currency over every account stream', async () => {
    const totals = { debits_posted: 0, credits_posted: 0, debits_pending: 0, credits_pending: 0 };
    let after: string | undefined;
    for (;;) {
      const page = await stores[0]!.readAll({ ...(after ? { after } : {}), limit: 1000 });
      for (const event of page) {
        if (event.type !== 'account-entry') continue;
        for (const field of Object.keys(totals) as (keyof typeof totals)[])
          totals[field] += Number(event.data[field]);
      }
      if (page.length < 1000) break;
      after = page.at(-1)!.checkpoint;
    }
    expect(totals.debits_posted).toBeGreaterThan(0);
    expect(totals.debits_posted).toBe(totals.credits_posted);
    expect(totals.debits_pending).toBe(totals.credits_pending);
  });
});
