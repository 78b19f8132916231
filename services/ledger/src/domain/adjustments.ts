import { accountIds } from './accounts.ts';
import type { TransferRequest } from './transfers.ts';

export const adjustmentKinds = ['bonus', 'penalty'] as const;
export type AdjustmentKind = (typeof adjustmentKinds)[number];

/** An admin's credit (bonus) or debit (penalty) of a user's wallet. */
export interface Adjustment {
  /** Derived from the user and the request's Idempotency-Key (see transfer-ids). */
  transferId: string;
  userId: string;
  kind: AdjustmentKind;
  amount: number;
  currency: string;
  reason: string;
  /** The admin who asked. */
  recordedBy: string;
}

/**
 * The transfer an adjustment is. A bonus comes from `platform:promotions` (an expense, which may
 * run a debit balance); a penalty goes from the user's `user:<id>:available` into
 * `platform:revenue`. A user's account is `debits_must_not_exceed_credits`, so `decideTransfers`
 * refuses a penalty larger than what the wallet can give (`INSUFFICIENT_FUNDS`): a penalty
 * never overdraws a wallet.
 */
export function adjustmentTransfer(adjustment: Adjustment): TransferRequest {
  const { kind, userId } = adjustment;
  const wallet = accountIds.userAvailable(userId);
  const [debit, credit] =
    kind === 'bonus' ? [accountIds.platformPromotions, wallet] : [wallet, accountIds.platformRevenue];
  return {
    id: adjustment.transferId,
    debit_account: debit,
    credit_account: credit,
    amount: adjustment.amount,
    currency: adjustment.currency,
    code: kind,
    metadata: {
      origin: 'adjustment',
      kind,
      user_id: userId,
      reason: adjustment.reason,
      recorded_by: adjustment.recordedBy,
    },
  };
}
