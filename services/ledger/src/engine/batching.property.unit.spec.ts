import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Balances,
  checkBalances,
  command,
  type Command,
  LedgerModel,
  type Outcome,
  snapshot,
  requestsOf,
  targetOf,
} from '../domain/__fixtures__/ledger-model.ts';
import type { TransferRequest } from '../domain/transfers.ts';
import { createMemoryEventStore } from '../store/memory-store.ts';
import { outcomeOf } from './__fixtures__/outcomes.ts';
import { createLedger } from './ledger.ts';

/**
 * Many callers at once, each sending its commands one after another: the writer batches whatever
 * has queued, so commands of different callers are decided together, in random interleavings.
 * The property: every caller gets the answer a sequential model gives when it applies the commands
 * in the order the writer received them, and the store ends with the model's balances and exactly
 * the model's accepted transfers.
 */

const start = new Date('2030-01-01T00:00:00.000Z');
const RUNS = Number(process.env.LEDGER_PROPERTY_RUNS ?? 400) / 4;

type Call =
  | { kind: 'transfer'; requests: TransferRequest[] }
  | { kind: 'resolve'; id: string; action: 'post' | 'void' | 'expire' };

/** Turns generated commands into calls with concrete ids; later calls may name earlier ids. */
function toCalls(commands: Command[]): Call[] {
  const submitted: TransferRequest[][] = [];
  const ids: string[] = [];
  const pendingIds: string[] = [];
  const calls: Call[] = [];
  for (const cmd of commands) {
    if (cmd.type === 'advance') continue;
    if (cmd.type === 'transfer' || cmd.type === 'repeat') {
      const requests = requestsOf(cmd, submitted);
      if (!requests) continue;
      submitted.push(requests);
      for (const r of requests) {
        if (!ids.includes(r.id)) ids.push(r.id);
        if (r.pending && !pendingIds.includes(r.id)) pendingIds.push(r.id);
      }
      calls.push({ kind: 'transfer', requests });
      continue;
    }
    const id = targetOf(cmd.index, ids, pendingIds);
    calls.push({ kind: 'resolve', id, action: cmd.type === 'expire' ? 'expire' : cmd.action });
  }
  return calls;
}

const scenario = fc.record({
  commands: fc.array(command, { minLength: 2, maxLength: 80, size: 'max' }),
  callers: fc.integer({ min: 2, max: 12 }),
  maxBatch: fc.integer({ min: 1, max: 16 }),
  seed: fc.integer(),
});

describe('the batching writer against a sequential model, over random interleavings of many callers', () => {
  let largest = 0;
  let batches = 0;
  let commandsRun = 0;
  afterAll(() => {
    // The property is only about batching if batches actually held several commands.
    expect(largest).toBeGreaterThan(1);
    expect(commandsRun / batches).toBeGreaterThan(1.5);
    console.info(
      `batching property: ${RUNS} runs, ${commandsRun} commands in ${batches} batches, largest ${largest}`,
    );
  });

  it('answers every caller as the model does in arrival order, and the store ends as the model', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ commands, callers, maxBatch, seed }) => {
        const store = createMemoryEventStore();
        const ledger = createLedger(store, { clock: () => start, maxBatch });
        const calls = toCalls(commands);
        // Deal the calls to callers at random; each caller awaits its answer before its next call.
        const random = fc.sample(
          fc.array(fc.nat(callers - 1), { minLength: calls.length, maxLength: calls.length }),
          {
            seed,
            numRuns: 1,
          },
        )[0]!;
        const queues = Array.from({ length: callers }, () => [] as Call[]);
        calls.forEach((call, i) => queues[random[i]!]!.push(call));

        const arrived: { call: Call; outcome: Promise<Outcome> }[] = [];
        const send = (call: Call): Promise<Outcome> => {
          // The engine queues a command synchronously when called: this is the writer's order.
          const outcome =
            call.kind === 'transfer'
              ? ledger.transfer(call.requests).then(outcomeOf)
              : call.action === 'expire'
                ? ledger.expire(call.id).then(outcomeOf)
                : ledger.resolve({ pending_id: call.id, action: call.action }).then(outcomeOf);
          arrived.push({ call, outcome });
          return outcome;
        };
        await Promise.all(
          queues.map(async (queue) => {
            for (const call of queue) await send(call);
          }),
        );

        const model = new LedgerModel(start);
        for (const [index, { call, outcome }] of arrived.entries()) {
          const expected =
            call.kind === 'transfer' ? model.transfer(call.requests) : model.resolve(call.id, call.action);
          const actual = await outcome;
          if (!isDeepStrictEqual(actual, expected)) {
            expect(actual, `arrival ${index}: ${JSON.stringify(call)}`).toEqual(expected);
          }
        }
        const balances = await snapshot({
          balances: async (account, currency) => {
            const state = await ledger.getAccount(account, currency);
            const b: Balances = {
              debits_posted: state?.debits_posted ?? 0,
              credits_posted: state?.credits_posted ?? 0,
              debits_pending: state?.debits_pending ?? 0,
              credits_pending: state?.credits_pending ?? 0,
            };
            return b;
          },
        } as Parameters<typeof snapshot>[0]);
        checkBalances(balances, model, 'after every caller was answered');
        const recorded = new Set(
          (await store.readAll())
            .filter((e) => e.type === 'transfer-created')
            .map((e) => e.data.id as string),
        );
        expect(recorded).toEqual(new Set(model.transfers.keys()));

        const stats = ledger.stats();
        largest = Math.max(largest, stats.largest);
        batches += stats.batches;
        commandsRun += stats.commands;
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
