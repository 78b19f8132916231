import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta, type Logger } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { reconcileCampaign } from './reconcile.ts';
import {
  answerFundingRequest,
  type CampaignRecord,
  findCampaign,
  findFundingRequest,
  type FundingRequestRecord,
  recordLedgerMovement,
  updateCampaign,
} from './repository.ts';

/**
 * What the ledger reports about a campaign's money. Each runs in the consumer's inbox transaction,
 * so it applies once per event; amounts are added to order-independent sums, and the campaign then
 * re-decides what it does by itself (pause, resume, announce its close).
 */

type Db = Kysely<TasksDB>;

/** The ledger's event behind a call: its cause, and what to say about it in the log. */
export interface LedgerContext {
  now: Date;
  event: Cause & { type: string };
  log: Logger;
}

/** The ledger's answer to a funding request: the request's event id (its causation id), and when. */
export interface FundingAnswer {
  requestId: string | undefined;
  campaignId: string;
  /** The answer's event time. */
  at: string;
}

export async function fundingGranted(
  trx: Db,
  answer: FundingAnswer & { funded: { amount: number; currency: string } },
  context: LedgerContext,
): Promise<void> {
  const { now, event } = context;
  const request = await pendingRequest(trx, answer, context);
  if (!request) return;
  const campaign = await findCampaign(trx, request.campaign_id, { lock: true });
  if (!campaign) return;
  await answerFundingRequest(trx, request.event_id, 'funded', new Date(answer.at));
  const funded = answer.funded.amount;
  await recordLedgerMovement(trx, campaign.id, { funded }, now);
  if (request.purpose === 'activation' && campaign.status === 'funding') {
    await updateCampaign(
      trx,
      campaign.id,
      { status: 'active', pause_reason: null, last_funding_error: null },
      now,
    );
    await appendToOutbox(trx, [
      buildEvent(
        'tasks.campaign.activated.v1',
        { campaign_id: campaign.id, company_id: campaign.company_id, funded: answer.funded },
        eventMeta(campaign.id, now, event),
      ),
    ]);
  } else {
    // A top-up raises the budget by what was funded; the last refusal is history now.
    await updateCampaign(
      trx,
      campaign.id,
      {
        last_funding_error: null,
        ...(request.purpose === 'top_up' ? { budget_amount: sql`budget_amount + ${funded}` } : {}),
      },
      now,
    );
  }
  // Topped up: a campaign paused because its budget ran short resumes.
  await reconcileCampaign(trx, campaign.id, now, event);
}

export async function fundingRefused(
  trx: Db,
  answer: FundingAnswer & { reasonCode: string; detail: string },
  context: LedgerContext,
): Promise<void> {
  const request = await pendingRequest(trx, answer, context);
  if (!request) return;
  const campaign = await findCampaign(trx, request.campaign_id, { lock: true });
  if (!campaign) return;
  await answerFundingRequest(trx, request.event_id, 'rejected', new Date(answer.at));
  const error = { code: answer.reasonCode, detail: answer.detail, at: answer.at };
  await updateCampaign(
    trx,
    campaign.id,
    {
      last_funding_error: JSON.stringify(error),
      // A refused activation leaves a draft to fix (its budget, the company's credits) and retry.
      ...(request.purpose === 'activation' && campaign.status === 'funding' ? { status: 'draft' } : {}),
    },
    context.now,
  );
  context.log.info(
    { campaign_id: campaign.id, purpose: request.purpose, reason_code: error.code },
    'the ledger refused to fund a campaign',
  );
}

/**
 * Money the ledger moved for a campaign (paid, returned, failed to pay). `reconcile: false` for a
 * movement that cannot change what the campaign does by itself (the budget returned at its close).
 */
export async function ledgerMoved(
  trx: Db,
  campaignId: string,
  delta: { funded?: number; spent?: number; returned?: number; owed?: number },
  context: LedgerContext & { reconcile?: boolean },
): Promise<CampaignRecord | undefined> {
  const campaign = await knownCampaign(trx, campaignId, context);
  if (!campaign) return undefined;
  await recordLedgerMovement(trx, campaign.id, delta, context.now);
  if (context.reconcile !== false) await reconcileCampaign(trx, campaign.id, context.now, context.event);
  return campaign;
}

/** The pending funding request an answer is about, or null (logged) when there is none. */
async function pendingRequest(
  trx: Db,
  answer: FundingAnswer,
  { event, log }: LedgerContext,
): Promise<FundingRequestRecord | null> {
  const request = answer.requestId ? await findFundingRequest(trx, answer.requestId) : undefined;
  if (!request || request.campaign_id !== answer.campaignId.toLowerCase()) {
    log.warn(
      {
        event_id: event.id,
        type: event.type,
        causation_id: answer.requestId,
        campaign_id: answer.campaignId,
      },
      'ledger answered a funding request tasks did not make; ignored',
    );
    return null;
  }
  if (request.status !== 'pending') {
    log.warn(
      { event_id: event.id, type: event.type, request: request.event_id, status: request.status },
      'ledger answered a funding request twice; the first answer stands',
    );
    return null;
  }
  return request;
}

/** The campaign a money movement is about, locked (campaign first), or undefined (logged) when unknown. */
async function knownCampaign(trx: Db, campaignId: string, { event, log }: LedgerContext) {
  const campaign = await findCampaign(trx, campaignId.toLowerCase(), { lock: true });
  if (!campaign)
    log.warn({ event_id: event.id, type: event.type, campaign_id: campaignId }, 'unknown campaign; ignored');
  return campaign;
}
