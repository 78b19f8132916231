import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox, type HandlerMap } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import { reconcileCampaign, recordLedgerMovement } from '../db/campaign-money.ts';
import {
  answerFundingRequest,
  findCampaign,
  findFundingRequest,
  type FundingRequestRow,
  updateCampaign,
} from '../db/campaigns.ts';
import type { TasksDB } from '../db/schema.ts';
import type { ConsumerDeps } from './consumers.ts';

type Db = Kysely<TasksDB>;
type FundingAnswer = TesseraEvent<'ledger.campaign.funded.v1' | 'ledger.campaign.funding-rejected.v1'>;

/**
 * The ledger's answers about campaign money. Each runs in the inbox transaction, so it applies once
 * per event id; amounts are added to order-independent sums (db/campaign-money.ts), and the
 * campaign then re-decides what it does by itself (pause, resume, announce its close).
 */
export function ledgerHandlers(deps: ConsumerDeps): HandlerMap<TasksDB> {
  const { logger } = deps;

  /** The pending funding request an answer is about, or null (logged) when there is none. */
  async function requestAnswered(trx: Db, event: FundingAnswer): Promise<FundingRequestRow | null> {
    const requestId = event.causationid;
    const request = requestId ? await findFundingRequest(trx, requestId) : undefined;
    if (!request || request.campaign_id !== event.data.campaign_id.toLowerCase()) {
      logger.warn(
        {
          event_id: event.id,
          type: event.type,
          causation_id: requestId,
          campaign_id: event.data.campaign_id,
        },
        'ledger answered a funding request tasks did not make; ignored',
      );
      return null;
    }
    if (request.status !== 'pending') {
      logger.warn(
        { event_id: event.id, type: event.type, request: request.event_id, status: request.status },
        'ledger answered a funding request twice; the first answer stands',
      );
      return null;
    }
    return request;
  }

  /** The campaign a money movement is about, locked (campaign first), or null when tasks does not know it. */
  async function knownCampaign(trx: Db, event: TesseraEvent, campaignId: string) {
    const campaign = await findCampaign(trx, campaignId.toLowerCase(), { lock: true });
    if (!campaign)
      logger.warn(
        { event_id: event.id, type: event.type, campaign_id: campaignId },
        'unknown campaign; ignored',
      );
    return campaign;
  }

  return {
    async 'ledger.campaign.funded.v1'(event, trx) {
      const request = await requestAnswered(trx, event);
      if (!request) return;
      const campaign = await findCampaign(trx, request.campaign_id, { lock: true });
      if (!campaign) return;
      const at = new Date(event.time);
      await answerFundingRequest(trx, request.event_id, 'funded', at);
      const funded = event.data.budget.amount;
      await recordLedgerMovement(trx, campaign.id, { funded });
      if (request.purpose === 'activation' && campaign.status === 'funding') {
        await updateCampaign(trx, campaign.id, {
          status: 'active',
          pause_reason: null,
          last_funding_error: null,
        });
        await appendToOutbox(trx, [
          buildEvent(
            'tasks.campaign.activated.v1',
            { campaign_id: campaign.id, company_id: campaign.company_id, funded: event.data.budget },
            causedBy(event, campaign.id),
          ),
        ]);
      } else {
        // A top-up raises the budget by what was funded; the last refusal is history now.
        await updateCampaign(trx, campaign.id, {
          last_funding_error: null,
          ...(request.purpose === 'top_up' ? { budget_amount: sql`budget_amount + ${funded}` } : {}),
        });
      }
      // Topped up: a campaign paused because its budget ran short resumes.
      await reconcileCampaign(trx, campaign.id, event);
    },

    async 'ledger.campaign.funding-rejected.v1'(event, trx) {
      const request = await requestAnswered(trx, event);
      if (!request) return;
      const campaign = await findCampaign(trx, request.campaign_id, { lock: true });
      if (!campaign) return;
      await answerFundingRequest(trx, request.event_id, 'rejected', new Date(event.time));
      const error = { code: event.data.reason_code, detail: event.data.detail, at: event.time };
      await updateCampaign(trx, campaign.id, {
        last_funding_error: JSON.stringify(error),
        // A refused activation leaves a draft to fix (its budget, the company's credits) and retry.
        ...(request.purpose === 'activation' && campaign.status === 'funding' ? { status: 'draft' } : {}),
      });
      logger.info(
        { campaign_id: campaign.id, purpose: request.purpose, reason_code: error.code },
        'the ledger refused to fund a campaign',
      );
    },

    async 'ledger.reward.paid.v1'(event, trx) {
      const campaign = await knownCampaign(trx, event, event.data.campaign_id);
      if (!campaign) return;
      const amount = event.data.amount.amount;
      await recordLedgerMovement(trx, campaign.id, { spent: amount, owed: -amount });
      await reconcileCampaign(trx, campaign.id, event);
    },

    async 'ledger.reward.failed.v1'(event, trx) {
      const campaign = await knownCampaign(trx, event, event.data.campaign_id);
      if (!campaign) return;
      logger.warn(
        {
          campaign_id: campaign.id,
          submission_id: event.data.submission_id,
          reason_code: event.data.reason_code,
        },
        "the ledger could not pay an approved reward from the campaign's budget",
      );
      await recordLedgerMovement(trx, campaign.id, { owed: -event.data.amount.amount });
      await reconcileCampaign(trx, campaign.id, event);
    },

    async 'ledger.judge-fee.paid.v1'(event, trx) {
      const campaign = await knownCampaign(trx, event, event.data.campaign_id);
      if (!campaign) return;
      await recordLedgerMovement(trx, campaign.id, { spent: event.data.amount.amount });
      await reconcileCampaign(trx, campaign.id, event);
    },

    async 'ledger.campaign.budget-returned.v1'(event, trx) {
      const campaign = await knownCampaign(trx, event, event.data.campaign_id);
      if (!campaign) return;
      await recordLedgerMovement(trx, campaign.id, { returned: event.data.amount.amount });
    },
  };
}
