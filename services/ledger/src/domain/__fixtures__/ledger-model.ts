import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { TransferRequest } from '../transfers.ts';
import { accounts } from './ledger.ts';

/**
 * A deliberately naive model of the ledger for property tests: balances in a map, rules written
 * out again from the specification (not from the domain code), checked against the real thing
 * after every command.
 */

const MAX = Number.MAX_SAFE_INTEGER;
export const currencies = ['USD', 'EUR'] as const;
// World and the platform's expenses may run a debit balance; they come first in the pool.
const unconstrained = new Set<string>([accounts.world, accounts.promotions, accounts.quality]);
const invalidAccount = 'user:nobody:available';
export const accountPool = [
  accounts.world,
  accounts.promotions,
  accounts.quality,
  accounts.revenue,
  accounts.company,
  accounts.campaign,
  accounts.user,
  accounts.otherUser,
];

export interface Balances {
  debits_posted: number;
  credits_posted: number;
  debits_pending: number;
  credits_pending: number;
}
const zero = (): Balances => ({ debits_posted: 0, credits_posted: 0, debits_pending: 0, credits_pending: 0 });

export type Outcome =
  | { ok: true; replayed: boolean; transfers: { id: string; amount: number; state: string }[] }
  | { ok: false; code: string; transfer_id: string };

interface ModelTransfer {
  body: string;
  chain: string[];
  debit: string;
  credit: string;
  currency: string;
  amount: number;
  pending: boolean;
  expiresAt: number | null;
  state: 'posted' | 'pending' | 'voided' | 'expired';
}

/** The body of a request with defaults made explicit, in a fixed key order. */
function body(request: TransferRequest): string {
  return JSON.stringify([
    request.debit_account,
    request.credit_account,
    request.amount,
    request.currency,
    request.code,
    Object.entries(request.metadata ?? {}).sort(),
    request.pending ? request.pending.timeout_seconds : 'not pending',
    request.balancing_debit ?? false,
  ]);
}

export class LedgerModel {
  readonly balances = new Map<string, Balances>();
  readonly transfers = new Map<string, ModelTransfer>();
  now: number;

  constructor(start: Date) {
    this.now = start.getTime();
  }

  balance(account: string, currency: string): Balances {
    return { ...(this.balances.get(`${account}@${currency}`) ?? zero()) };
  }

  transfer(requests: TransferRequest[]): Outcome {
    const recorded = requests.map((r) => this.transfers.get(r.id));
    const ids = requests.map((r) => r.id);
    if (recorded.some((t) => t !== undefined)) {
      for (const [i, request] of requests.entries()) {
        const t = recorded[i];
        if (!t)
          return { ok: false, code: 'IDEMPOTENCY_CONFLICT', transfer_id: ids[recorded.findIndex(Boolean)]! };
        if (t.body !== body(request) || t.chain.join() !== ids.join()) {
          return { ok: false, code: 'IDEMPOTENCY_CONFLICT', transfer_id: request.id };
        }
      }
      return { ok: true, replayed: true, transfers: recorded.map((t, i) => this.view(ids[i]!, t!)) };
    }

    const running = new Map([...this.balances].map(([k, v]) => [k, { ...v }]));
    const created: [string, ModelTransfer][] = [];
    for (const request of requests) {
      const fail = (code: string): Outcome => ({ ok: false, code, transfer_id: request.id });
      if (!accountPool.includes(request.debit_account) || !accountPool.includes(request.credit_account)) {
        return fail('INVALID_ACCOUNT');
      }
      if (request.debit_account === request.credit_account) return fail('SAME_ACCOUNT');
      if (request.currency !== requests[0]!.currency) return fail('CURRENCY_MISMATCH');
      if (request.amount === 0 && !request.balancing_debit) return fail('INVALID_AMOUNT');
      const debitKey = `${request.debit_account}@${request.currency}`;
      const creditKey = `${request.credit_account}@${request.currency}`;
      const debit = running.get(debitKey) ?? zero();
      const credit = running.get(creditKey) ?? zero();
      const constrained = !unconstrained.has(request.debit_account);
      const amount =
        request.balancing_debit && constrained
          ? Math.min(
              request.amount,
              Math.max(0, debit.credits_posted - debit.debits_posted - debit.debits_pending),
            )
          : request.amount;
      const pending = request.pending !== undefined;
      const newDebit = { ...debit };
      const newCredit = { ...credit };
      if (pending) {
        newDebit.debits_pending += amount;
        newCredit.credits_pending += amount;
      } else {
        newDebit.debits_posted += amount;
        newCredit.credits_posted += amount;
      }
      for (const b of [newDebit, newCredit]) {
        if (Object.values(b).some((v) => v > MAX)) return fail('OVERFLOW');
        if (b.debits_posted + b.debits_pending > MAX || b.credits_posted + b.credits_pending > MAX) {
          return fail('OVERFLOW');
        }
      }
      if (constrained && newDebit.debits_posted + newDebit.debits_pending > newDebit.credits_posted) {
        return fail('INSUFFICIENT_FUNDS');
      }
      running.set(debitKey, newDebit);
      running.set(creditKey, newCredit);
      const timeout = request.pending?.timeout_seconds ?? null;
      created.push([
        request.id,
        {
          body: body(request),
          chain: ids,
          debit: debitKey,
          credit: creditKey,
          currency: request.currency,
          amount,
          pending,
          expiresAt: pending && timeout !== null ? this.now + timeout * 1000 : null,
          state: pending ? 'pending' : 'posted',
        },
      ]);
    }
    for (const [key, b] of running) this.balances.set(key, b);
    for (const [id, t] of created) this.transfers.set(id, t);
    return { ok: true, replayed: false, transfers: created.map(([id, t]) => this.view(id, t)) };
  }

  resolve(id: string, action: 'post' | 'void' | 'expire'): Outcome {
    const fail = (code: string): Outcome => ({ ok: false, code, transfer_id: id });
    const t = this.transfers.get(id);
    if (!t) return fail('PENDING_NOT_FOUND');
    if (!t.pending) return fail('PENDING_NOT_PENDING');
    const target = { post: 'posted', void: 'voided', expire: 'expired' }[action] as ModelTransfer['state'];
    if (t.state === target) return { ok: true, replayed: true, transfers: [this.view(id, t)] };
    if (t.state !== 'pending') return fail('PENDING_NOT_PENDING');
    const due = t.expiresAt !== null && t.expiresAt <= this.now;
    if (action !== 'expire' && due) return fail('PENDING_NOT_PENDING');
    if (action === 'expire' && !due) return fail('PENDING_NOT_EXPIRED');
    const debit = this.balance(t.debit.split('@')[0]!, t.currency);
    const credit = this.balance(t.credit.split('@')[0]!, t.currency);
    debit.debits_pending -= t.amount;
    credit.credits_pending -= t.amount;
    if (action === 'post') {
      debit.debits_posted += t.amount;
      credit.credits_posted += t.amount;
    }
    this.balances.set(t.debit, debit);
    this.balances.set(t.credit, credit);
    t.state = target;
    return { ok: true, replayed: false, transfers: [this.view(id, t)] };
  }

  private view(id: string, t: ModelTransfer) {
    return { id, amount: t.amount, state: t.state };
  }
}

// Commands, as data fast-check can generate and shrink. Ids are resolved when a run starts, so
// each run (and each replay of a shrunk case) has its own.
export interface TransferSpec {
  debit: number;
  credit: number;
  amount: number;
  currency: number;
  pending: null | { timeout_seconds: number | null };
  balancing: boolean;
}
export type Command =
  | { type: 'transfer'; specs: TransferSpec[] }
  | { type: 'repeat'; index: number; change: 'none' | 'amount' | 'order' }
  | { type: 'resolve'; index: number; action: 'post' | 'void' }
  | { type: 'expire'; index: number }
  | { type: 'advance'; seconds: number };

const transferSpec: fc.Arbitrary<TransferSpec> = fc.record({
  // One index past the pool is the invalid account.
  debit: fc.oneof({ weight: 12, arbitrary: fc.nat(accountPool.length - 1) }, fc.constant(accountPool.length)),
  credit: fc.oneof(
    { weight: 12, arbitrary: fc.nat(accountPool.length - 1) },
    fc.constant(accountPool.length),
  ),
  amount: fc.oneof(
    { weight: 40, arbitrary: fc.integer({ min: 1, max: 500 }) },
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constant(MAX) },
    { weight: 1, arbitrary: fc.integer({ min: MAX - 1000, max: MAX }) },
  ),
  currency: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.constant(1)),
  pending: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    fc.record({ timeout_seconds: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 120 })) }),
  ),
  balancing: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true)),
});

/** Biased so that world often funds the others, or little but refusals would happen. */
const fundingSpec: fc.Arbitrary<TransferSpec> = fc.record({
  debit: fc.nat(unconstrained.size - 1),
  credit: fc.integer({ min: unconstrained.size, max: accountPool.length - 1 }),
  amount: fc.integer({ min: 1, max: 2000 }),
  currency: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.constant(1)),
  pending: fc.constant(null),
  balancing: fc.constant(false),
});

/** A hold: a constrained account reserves an amount towards world or another account. */
const holdSpec: fc.Arbitrary<TransferSpec> = fc.record({
  debit: fc.integer({ min: unconstrained.size, max: accountPool.length - 1 }),
  credit: fc.nat(accountPool.length - 1),
  amount: fc.integer({ min: 1, max: 400 }),
  currency: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.constant(1)),
  pending: fc.record({ timeout_seconds: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 120 })) }),
  balancing: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true)),
});

export const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('transfer' as const),
      specs: fc.array(fundingSpec, { minLength: 1, maxLength: 1 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('transfer' as const),
      specs: fc.array(holdSpec, { minLength: 1, maxLength: 2 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('transfer' as const),
      specs: fc.array(transferSpec, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('repeat' as const),
      index: fc.nat(),
      change: fc.constantFrom('none' as const, 'none' as const, 'amount' as const, 'order' as const),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('resolve' as const),
      index: fc.nat(),
      action: fc.constantFrom('post' as const, 'void' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('expire' as const), index: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 90 }) }),
  },
);

/** What the property runs against: the domain on maps, or the engine on a store. */
export interface LedgerSubject {
  transfer(requests: TransferRequest[]): Promise<Outcome>;
  resolve(id: string, action: 'post' | 'void'): Promise<Outcome>;
  expire(id: string): Promise<Outcome>;
  advance(seconds: number): void;
  balances(account: string, currency: string): Promise<Balances>;
  /** Extra checks the subject can make of itself after a step (e.g. an audit of the store). */
  check?(): Promise<void>;
}

function toRequest(spec: TransferSpec): TransferRequest {
  const account = (index: number) => accountPool[index] ?? invalidAccount;
  return {
    id: randomUUID(),
    debit_account: account(spec.debit),
    credit_account: account(spec.credit),
    amount: spec.amount,
    currency: currencies[spec.currency]!,
    code: 'refund',
    ...(spec.pending ? { pending: spec.pending } : {}),
    ...(spec.balancing ? { balancing_debit: true } : {}),
  };
}

/**
 * The transfers a transfer or repeat command sends: new ones from its specs, or a copy of an earlier
 * command's (same ids), perhaps with another amount or order; undefined when there is none to repeat.
 */
export function requestsOf(
  cmd: Extract<Command, { type: 'transfer' | 'repeat' }>,
  submitted: readonly TransferRequest[][],
): TransferRequest[] | undefined {
  if (cmd.type === 'transfer') return cmd.specs.map(toRequest);
  const previous = submitted[cmd.index % Math.max(submitted.length, 1)];
  if (!previous) return undefined;
  const requests = previous.map((r) => ({ ...r }));
  if (cmd.change === 'amount') requests[0] = { ...requests[0]!, amount: requests[0]!.amount === 1 ? 2 : 1 };
  if (cmd.change === 'order') requests.reverse();
  return requests;
}

/** The transfer a resolve or expire names: mostly one asked as pending; sometimes any id, or one never seen. */
export function targetOf(index: number, ids: readonly string[], pendingIds: readonly string[]): string {
  const pick = (items: readonly string[]) => items[index % Math.max(items.length, 1)];
  return (index % 5 === 0 ? pick(ids) : pick(pendingIds)) ?? randomUUID();
}

export interface RunStats {
  steps: number;
  succeeded: number;
  refused: Record<string, number>;
  replayed: number;
  /** Pending transfers posted, voided or expired. */
  resolved: number;
}

/**
 * Runs commands against the subject and the model side by side. After every step: the same
 * outcome; the same balances on every account; per currency, debits = credits (posted and
 * pending); no constrained account overdrawn; and a replay moves no money.
 */
export async function runAgainstModel(
  subject: LedgerSubject,
  commands: Command[],
  start: Date,
  stats?: RunStats,
) {
  const model = new LedgerModel(start);
  const submitted: TransferRequest[][] = [];
  const ids: string[] = [];
  const pendingIds: string[] = [];
  for (const [step, cmd] of commands.entries()) {
    const before = await snapshot(subject);
    let expected: Outcome;
    let actual: Outcome;
    switch (cmd.type) {
      case 'transfer':
      case 'repeat': {
        const requests = requestsOf(cmd, submitted);
        if (!requests) continue;
        submitted.push(requests);
        for (const r of requests) {
          if (!ids.includes(r.id)) ids.push(r.id);
          if (r.pending && !pendingIds.includes(r.id)) pendingIds.push(r.id);
        }
        expected = model.transfer(requests);
        actual = await subject.transfer(requests);
        break;
      }
      case 'resolve':
      case 'expire': {
        const id = targetOf(cmd.index, ids, pendingIds);
        const action = cmd.type === 'expire' ? 'expire' : cmd.action;
        expected = model.resolve(id, action);
        actual = action === 'expire' ? await subject.expire(id) : await subject.resolve(id, action);
        break;
      }
      case 'advance':
        model.now += cmd.seconds * 1000;
        subject.advance(cmd.seconds);
        continue;
    }
    const where = `step ${step}: ${JSON.stringify(cmd)}`;
    if (!isDeepStrictEqual(actual, expected)) expect(actual, where).toEqual(expected);
    if (stats) {
      stats.steps += 1;
      if (!expected.ok) stats.refused[expected.code] = (stats.refused[expected.code] ?? 0) + 1;
      else if (expected.replayed) stats.replayed += 1;
      else stats.succeeded += 1;
      if (expected.ok && !expected.replayed && (cmd.type === 'resolve' || cmd.type === 'expire'))
        stats.resolved += 1;
    }

    const after = await snapshot(subject);
    if ((!expected.ok || expected.replayed) && !isDeepStrictEqual(after, before)) {
      expect(after, `${where}: a refusal or a replay moved money`).toEqual(before);
    }
    checkBalances(after, model, where);
    await subject.check?.();
  }
}

/** Plain comparisons first: `expect` only to report a failure (thousands of steps run). */
export function checkBalances(after: Map<string, Balances>, model: LedgerModel, where: string): void {
  for (const currency of currencies) {
    const totals = { debits_posted: 0n, credits_posted: 0n, debits_pending: 0n, credits_pending: 0n };
    for (const account of accountPool) {
      const b = after.get(`${account}@${currency}`)!;
      const what = `${where}: ${account}@${currency}`;
      const modelled = model.balance(account, currency);
      if (!isDeepStrictEqual(b, modelled)) expect(b, `${what} differs from the model`).toEqual(modelled);
      for (const field of Object.keys(totals) as (keyof Balances)[]) {
        if (!Number.isSafeInteger(b[field]) || b[field] < 0) expect.fail(`${what}: ${field} is ${b[field]}`);
        // Totals can pass the safe integers (overflow cases): add exactly, as bigints.
        totals[field] += BigInt(b[field]);
      }
      if (!unconstrained.has(account) && b.debits_posted + b.debits_pending > b.credits_posted) {
        expect.fail(`${what} is overdrawn: ${JSON.stringify(b)}`);
      }
    }
    if (totals.debits_posted !== totals.credits_posted || totals.debits_pending !== totals.credits_pending) {
      expect.fail(`${where}: ${currency} debits and credits differ: ${String(Object.values(totals))}`);
    }
  }
}

export async function snapshot(subject: LedgerSubject): Promise<Map<string, Balances>> {
  const balances = new Map<string, Balances>();
  for (const currency of currencies) {
    for (const account of accountPool)
      balances.set(`${account}@${currency}`, await subject.balances(account, currency));
  }
  return balances;
}
