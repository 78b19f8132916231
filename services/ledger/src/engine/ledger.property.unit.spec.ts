import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Balances,
  type LedgerSubject,
  type RunStats,
  command,
  runAgainstModel,
} from '../domain/__fixtures__/ledger-model.ts';
import { createMemoryEventStore } from '../store/memory-store.ts';
import { outcomeOf } from './__fixtures__/outcomes.ts';
import { createAuditor } from './__fixtures__/store-auditor.ts';
import { createLedger } from './ledger.ts';

const start = new Date('2030-01-01T00:00:00.000Z');
const RUNS = Number(process.env.LEDGER_PROPERTY_RUNS ?? 400) / 4;

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
