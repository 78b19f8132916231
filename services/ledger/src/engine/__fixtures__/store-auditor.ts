import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { type AccountState, evolveAccount } from '../../domain/account-state.ts';
import type { Balances } from '../../domain/__fixtures__/ledger-model.ts';
import { type TransferRecord, evolveTransfer } from '../../domain/transfer-state.ts';
import type { MemoryEventStore } from '../../store/memory-store.ts';
import { toStoredEvent } from '../stored-events.ts';

/**
 * What an auditor would do with the store: fold every account stream, replay every transfer, and
 * compare. Both must give the engine's balances, and no transfer may be created twice. Folds
 * incrementally from the last checkpoint, as it runs after every step.
 */
export function createAuditor(store: MemoryEventStore) {
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
