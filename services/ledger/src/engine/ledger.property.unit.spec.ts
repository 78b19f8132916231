import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type AccountState, evolveAccount } from '../domain/account-state.ts';
import {
  type Balances,
  type LedgerSubject,
  type RunStats,
  command,
  runAgainstModel,
} from '../domain/__fixtures__/ledger-model.ts';
import type { TransferRecord } from '../domain/transfer-state.ts';
import { evolveTransfer } from '../domain/transfer-state.ts';
import { createMemoryEventStore, type MemoryEventStore } from '../store/memory-store.ts';
import { outcomeOf } from './__fixtures__/outcomes.ts';
import { createLedger } from './ledger.ts';
import { toStoredEvent } from './stored-events.ts';

const start = new Date('2030-01-01T00:00:00.000Z');
const RUNS = Number(process.env.LEDGER_PROPERTY_RUNS ?? 400) / 4;

/**
 * What an auditor would do with the store: fold every account stream, replay every transfer, and
 * compare. Both must give the engine's balances, and no transfer may be created twice. Folds
 * incrementally from the last checkpoint, as it runs after every step.
 */
function createAuditor(store: MemoryEventStore) {
  const folded = new Map<string, AccountState>();
  const transfers = new Map<string, TransferRecord>();
  let after: string | undefined;

  return async function audit(balances: (stream: string) => Promise<Balances | undefined>) {
    for (const recorded of await store.readAll(after === undefined ? {} : { after })) {
      const event = toStoredEvent(recorded);
      const { stream } = recorded;
      if (stream.startsWith('transfer-')) {
        if (event.type === 'transfer-created' && transfers.has(stream))
          expect.fail(`${stream} created twice`);
        transfers.set(stream, evolveTransfer(transfers.get(stream), event));
      } else folded.set(stream, evolveAccount(folded.get(stream), event));
      after = recorded.checkpoint;
    }
    const replayed = new Map<string, Balances>();
    const add = (stream: string, field: keyof Balances, amount: number) => {
      const b = replayed.get(stream) ?? {
        debits_posted: 0,
        credits_posted: 0,
        debits_pending: 0,
        credits_pending: 0,
      };
      b[field] += amount;
      replayed.set(stream, b);
    };
    for (const t of transfers.values()) {
      const debit = `account-${t.debit_account}@${t.currency}`;
      const credit = `account-${t.credit_account}@${t.currency}`;
      if (t.state === 'pending') {
        add(debit, 'debits_pending', t.amount);
        add(credit, 'credits_pending', t.amount);
      } else if (t.state === 'posted') {
        add(debit, 'debits_posted', t.amount);
        add(credit, 'credits_posted', t.amount);
      }
    }
    for (const [stream, state] of folded) {
      const { debits_posted, credits_posted, debits_pending, credits_pending } = state;
      const fromEntries = { debits_posted, credits_posted, debits_pending, credits_pending };
      const fromTransfers = replayed.get(stream) ?? {
        debits_posted: 0,
        credits_posted: 0,
        debits_pending: 0,
        credits_pending: 0,
      };
      if (!isDeepStrictEqual(fromEntries, fromTransfers)) {
        expect(fromEntries, `${stream}: entries and transfers disagree`).toEqual(fromTransfers);
      }
      const engine = await balances(stream);
      if (!isDeepStrictEqual(engine, fromEntries)) {
        expect(engine, `${stream}: the engine disagrees with the store`).toEqual(fromEntries);
      }
    }
    for (const [stream, b] of replayed) {
      if (Object.values(b).some((v) => v !== 0) && !folded.has(stream)) {
        expect.fail(`${stream} moved money but was never opened`);
      }
    }
  };
}

function engineSubject(): LedgerSubject {
  const store = createMemoryEventStore();
  let now = start;
  const ledger = createLedger(store, { clock: () => now });
  const audit = createAuditor(store);
  const balances = async (account: string, currency: string): Promise<Balances> => {
    const state = await ledger.getAccount(account, currency);
    return {
      debits_posted: state?.debits_posted ?? 0,
      credits_posted: state?.credits_posted ?? 0,
      debits_pending: state?.debits_pending ?? 0,
      credits_pending: state?.credits_pending ?? 0,
    };
  };
  return {
    transfer: async (requests) => outcomeOf(await ledger.transfer(requests)),
    resolve: async (id, action) => outcomeOf(await ledger.resolve({ pending_id: id, action })),
    expire: async (id) => outcomeOf(await ledger.expire(id)),
    advance(seconds) {
      now = new Date(now.getTime() + seconds * 1000);
    },
    balances,
    check: () =>
      audit(async (stream) => {
        const [, account, currency] = /^account-(.+)@([A-Z]{3})$/.exec(stream) ?? [];
        return balances(account!, currency!);
      }),
  };
}

describe('the engine on the memory store against a model, over random command sequences', () => {
  const stats: RunStats = { steps: 0, succeeded: 0, refused: {}, replayed: 0, resolved: 0 };
  afterAll(() => {
    expect(stats.succeeded).toBeGreaterThan(stats.steps / 4);
    expect(stats.replayed).toBeGreaterThan(0);
    expect(stats.resolved).toBeGreaterThan(0);
    console.info(`engine property: ${RUNS} runs, ${stats.steps} steps`, JSON.stringify(stats));
  });

  it('agrees with the model and with an audit of the store after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 60, size: 'max' }), async (commands) => {
        await runAgainstModel(engineSubject(), commands, start, stats);
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
