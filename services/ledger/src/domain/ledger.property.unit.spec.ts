import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolutionDecision, TransferDecision } from './decision.ts';
import { balancesOf, createDomainLedger } from './__fixtures__/ledger.ts';
import {
  type LedgerSubject,
  type Outcome,
  type RunStats,
  command,
  runAgainstModel,
} from './__fixtures__/ledger-model.ts';

const start = new Date('2030-01-01T00:00:00.000Z');
const RUNS = Number(process.env.LEDGER_PROPERTY_RUNS ?? 400);

function outcomeOf(decision: TransferDecision | ResolutionDecision): Outcome {
  if (decision.kind === 'rejected') {
    return { ok: false, code: decision.rejection.code, transfer_id: decision.rejection.transfer_id };
  }
  const transfers = 'transfers' in decision ? decision.transfers : [decision.transfer];
  return {
    ok: true,
    replayed: decision.kind === 'replayed',
    transfers: transfers.map(({ id, amount, state }) => ({ id, amount, state })),
  };
}

function domainSubject(): LedgerSubject {
  const ledger = createDomainLedger(start);
  return {
    transfer: async (requests) => outcomeOf(ledger.transfer(requests)),
    resolve: async (id, action) => outcomeOf(ledger.resolve({ pending_id: id, action })),
    expire: async (id) => outcomeOf(ledger.expire(id)),
    advance: (seconds) => ledger.advance(seconds),
    balances: async (account, currency) => balancesOf(ledger.account(account, currency)),
  };
}

describe('the domain against a model, over random command sequences', () => {
  const stats: RunStats = { steps: 0, succeeded: 0, refused: {}, replayed: 0, resolved: 0 };
  afterAll(() => {
    // The sequences must actually exercise the rules, not just refuse everything.
    expect(stats.succeeded).toBeGreaterThan(stats.steps / 4);
    for (const code of [
      'INSUFFICIENT_FUNDS',
      'IDEMPOTENCY_CONFLICT',
      'PENDING_NOT_PENDING',
      'PENDING_NOT_EXPIRED',
      'INVALID_ACCOUNT',
      'SAME_ACCOUNT',
      'CURRENCY_MISMATCH',
      'INVALID_AMOUNT',
      'OVERFLOW',
    ]) {
      expect(stats.refused[code], `no run refused with ${code}`).toBeGreaterThan(0);
    }
    expect(stats.replayed).toBeGreaterThan(0);
    expect(stats.resolved).toBeGreaterThan(0);
    console.info(`domain property: ${RUNS} runs, ${stats.steps} steps`, JSON.stringify(stats));
  });

  it('keeps double entry, the constraints and the model balances after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 80, size: 'max' }), async (commands) => {
        await runAgainstModel(domainSubject(), commands, start, stats);
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
