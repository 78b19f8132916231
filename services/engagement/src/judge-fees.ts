import type { EventData, TesseraEvent } from '@tessera/contracts';
import type { EventHandler, HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import type { EngagementDB } from './db/schema.ts';

/**
 * A judge's fee paid: for a real review (`ledger.judge-fee.paid.v1`, from the campaign's budget) or
 * for a honeypot's (`ledger.honeypot-fee.paid.v1`, the platform funding the budget first). A judge
 * must not tell a honeypot from a real review, so engagement does exactly the same for both: the
 * same earnings in standing, the same badge counts, the same notification. Every capability reacts
 * to both through one function (`judgeFeeHandlers`), given what they share (`judgeFeeOf`).
 */
export type JudgeFeeEvent = 'ledger.judge-fee.paid.v1' | 'ledger.honeypot-fee.paid.v1';

/** What a judge's fee says, whichever event paid it. */
export interface JudgeFee {
  review_id: string;
  campaign_id: string;
  judge_id: string;
  amount: { amount: number; currency: string };
  /** The transfer that paid the judge: a honeypot fee's second (its first funded the budget). */
  transfer_id: string;
}

export function judgeFeeOf(data: EventData<JudgeFeeEvent>): JudgeFee {
  const { review_id, campaign_id, judge_id, amount } = data;
  const transfer_id = 'transfer_ids' in data ? data.transfer_ids[1]! : data.transfer_id;
  return { review_id, campaign_id, judge_id, amount, transfer_id };
}

/** One handler for both events that pay a judge's fee. */
export function judgeFeeHandlers(
  handle: (
    fee: JudgeFee,
    event: TesseraEvent<JudgeFeeEvent>,
    trx: Transaction<EngagementDB>,
  ) => Promise<void>,
): HandlerMap<EngagementDB> {
  const handler: EventHandler<EngagementDB, JudgeFeeEvent> = (event, trx) =>
    handle(judgeFeeOf(event.data), event, trx);
  const handlers: { [T in JudgeFeeEvent]: EventHandler<EngagementDB, T> } = {
    'ledger.judge-fee.paid.v1': handler,
    'ledger.honeypot-fee.paid.v1': handler,
  };
  return handlers;
}
