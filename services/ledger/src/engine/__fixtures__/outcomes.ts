import type { Outcome } from '../../domain/__fixtures__/ledger-model.ts';
import type { ResolutionOutcome, TransferOutcome } from '../types.ts';

/** An engine outcome in the model's terms. */
export function outcomeOf(outcome: TransferOutcome | ResolutionOutcome): Outcome {
  if (!outcome.ok)
    return { ok: false as const, code: outcome.rejection.code, transfer_id: outcome.rejection.transfer_id };
  const transfers = 'transfers' in outcome ? outcome.transfers : [outcome.transfer];
  return {
    ok: true as const,
    replayed: outcome.replayed,
    transfers: transfers.map(({ id, amount, state }) => ({ id, amount, state })),
  };
}
