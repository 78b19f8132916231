import type { TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import { fundingGranted, fundingRefused, type LedgerContext, ledgerMoved } from '../campaigns/index.ts';
import type { TasksDB } from '../db/schema.ts';
import type { ConsumerDeps } from './consumers.ts';

/**
 * The ledger's answers about campaign money (campaigns/funding.ts). Each runs in the inbox
 * transaction, so it applies once per event id.
 */
export function ledgerHandlers(deps: ConsumerDeps): HandlerMap<TasksDB> {
  const { logger: log, clock } = deps;
  const context = (event: TesseraEvent): LedgerContext => ({ now: clock(), event, log });

  return {
    'ledger.campaign.funded.v1': (event, trx) =>
      fundingGranted(
        trx,
        {
          requestId: event.causationid,
          campaignId: event.data.campaign_id,
          at: event.time,
          funded: event.data.budget,
        },
        context(event),
      ),

    'ledger.campaign.funding-rejected.v1': (event, trx) =>
      fundingRefused(
        trx,
        {
          requestId: event.causationid,
          campaignId: event.data.campaign_id,
          at: event.time,
          reasonCode: event.data.reason_code,
          detail: event.data.detail,
        },
        context(event),
      ),

    'ledger.reward.paid.v1': async (event, trx) => {
      const amount = event.data.amount.amount;
      await ledgerMoved(trx, event.data.campaign_id, { spent: amount, owed: -amount }, context(event));
    },

    'ledger.reward.failed.v1': async (event, trx) => {
      const campaign = await ledgerMoved(
        trx,
        event.data.campaign_id,
        { owed: -event.data.amount.amount },
        context(event),
      );
      if (campaign)
        log.warn(
          {
            campaign_id: campaign.id,
            submission_id: event.data.submission_id,
            reason_code: event.data.reason_code,
          },
          "the ledger could not pay an approved reward from the campaign's budget",
        );
    },

    // QC's fee-earned made the fee owed; the ledger's answer settles it either way.
    'ledger.judge-fee.paid.v1': async (event, trx) => {
      const amount = event.data.amount.amount;
      await ledgerMoved(trx, event.data.campaign_id, { spent: amount, owed: -amount }, context(event));
    },

    'ledger.judge-fee.failed.v1': async (event, trx) => {
      const campaign = await ledgerMoved(
        trx,
        event.data.campaign_id,
        { owed: -event.data.amount.amount },
        context(event),
      );
      if (campaign)
        log.warn(
          { campaign_id: campaign.id, review_id: event.data.review_id, reason_code: event.data.reason_code },
          "the ledger could not pay a judge's fee from the campaign's budget",
        );
    },

    'ledger.campaign.budget-returned.v1': async (event, trx) => {
      await ledgerMoved(
        trx,
        event.data.campaign_id,
        { returned: event.data.amount.amount },
        {
          ...context(event),
          reconcile: false,
        },
      );
    },
  };
}
