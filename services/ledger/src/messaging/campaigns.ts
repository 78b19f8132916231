import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import type { Transaction } from 'kysely';
import { accountIds } from '../domain/accounts.ts';
import { DEFAULT_MAX_JUDGES, decideFundingOwner, type Refused } from '../domain/claims.ts';
import { fundingTransfers } from '../domain/fees.ts';
import type { LedgerDB } from '../service.ts';
import { type FlowDeps, moveOnce, reasonOf } from './flow.ts';
import { outcomeKey, publishOutcome } from './outcomes.ts';
import { canonicalId, transferIds } from './transfer-ids.ts';

/**
 * Tasks' campaign lifecycle: funding moves the budget into the campaign's escrow and the platform
 * fee into revenue as one linked step; completion or cancellation sweeps what is left back.
 */
export function campaignHandlers(deps: FlowDeps): HandlerMap<LedgerDB> {
  return {
    'tasks.campaign.created.v1': (event, trx) => learnOwner(event, trx),
    'tasks.assignment.claimed.v1': (event, trx) => learnClaim(event, trx),
    'tasks.campaign.funding-requested.v1': (event, trx) => fund(deps, event, trx),
    'tasks.campaign.completed.v1': (event, trx) => returnBudget(deps, event, trx),
    'tasks.campaign.cancelled.v1': (event, trx) => returnBudget(deps, event, trx),
  };
}

async function fund(
  deps: FlowDeps,
  event: TesseraEvent<'tasks.campaign.funding-requested.v1'>,
  trx: Transaction<LedgerDB>,
): Promise<void> {
  const { budget } = event.data;
  const campaignId = canonicalId(event.data.campaign_id);
  const companyId = canonicalId(event.data.company_id);
  const meta = causedBy(event, campaignId);
  // Locked until the handler commits, as `returnBudget` locks it: a funding and the campaign's
  // return are never decided at once (on two instances), so the check below cannot go stale.
  const owner = await trx
    .selectFrom('campaign_companies')
    .select(['company_id', 'currency'])
    .where('campaign_id', '=', campaignId)
    .forUpdate()
    .executeTakeFirst();
  // Each request is its own attempt: ids derive from the event, so a second request funds again.
  const fundingId = transferIds.funding(event.id);
  const feeId = transferIds.fee(event.id);
  const owned = decideFundingOwner(owner, {
    campaign_id: campaignId,
    company_id: companyId,
    currency: budget.currency,
  });
  const refused = owned.ok ? await closedCampaign(deps, campaignId, fundingId) : owned;
  if (refused) {
    const { reason_code, detail } = refused;
    const rejected = buildEvent(
      'ledger.campaign.funding-rejected.v1',
      { campaign_id: campaignId, company_id: companyId, budget, reason_code, detail },
      meta,
    );
    await publishOutcome(trx, outcomeKey(rejected.type, event.id), rejected);
    return;
  }

  const metadata = { event_id: event.id, campaign_id: campaignId, company_id: companyId };
  const requests = fundingTransfers({
    fundingId,
    feeId,
    campaignId,
    companyId,
    budget,
    feeBps: deps.feeBps,
    metadata,
  });

  const moved = await moveOnce(deps, requests, [fundingId, feeId]);
  if (!moved.ok) {
    const rejected = buildEvent(
      'ledger.campaign.funding-rejected.v1',
      { campaign_id: campaignId, company_id: companyId, budget, ...reasonOf(moved.rejection) },
      meta,
    );
    await publishOutcome(trx, outcomeKey(rejected.type, event.id), rejected);
    return;
  }
  const funding = moved.transfers.find((t) => t.id === fundingId);
  const fee = moved.transfers.find((t) => t.id === feeId);
  const funded = buildEvent(
    'ledger.campaign.funded.v1',
    {
      campaign_id: campaignId,
      company_id: companyId,
      budget: { amount: funding?.amount ?? 0, currency: budget.currency },
      fee: { amount: fee?.amount ?? 0, currency: budget.currency },
      transfer_ids: moved.transfers.map((t) => t.id),
    },
    meta,
  );
  await publishOutcome(trx, outcomeKey(funded.type, event.id), funded);
}

/**
 * A campaign whose budget was returned (completed or cancelled: `campaign-return:<campaign>` is
 * recorded, once) takes no more funding: nothing would ever sweep it back. A funding request handled
 * only after the return (its handler failed, and the completion overtook its retry) is refused
 * CAMPAIGN_CLOSED and moves nothing; one whose transfers were recorded before the return (and
 * swept by it) is a replay, answered as funded. Undefined when the funding may go ahead.
 */
async function closedCampaign(
  deps: FlowDeps,
  campaignId: string,
  fundingId: string,
): Promise<Refused | undefined> {
  if (!(await deps.engine.getTransfer(transferIds.campaignReturn(campaignId)))) return undefined;
  if (await deps.engine.getTransfer(fundingId)) return undefined;
  return {
    ok: false,
    reason_code: 'CAMPAIGN_CLOSED',
    detail: `campaign ${campaignId} was completed or cancelled and its budget returned`,
  };
}

/** Who owns a campaign, and its currency: a funding request naming anyone else moves nothing. */
async function learnOwner(event: TesseraEvent<'tasks.campaign.created.v1'>, trx: Transaction<LedgerDB>) {
  await trx
    .insertInto('campaign_companies')
    .values({
      campaign_id: canonicalId(event.data.campaign_id),
      company_id: canonicalId(event.data.company_id),
      currency: event.data.budget.currency,
    })
    .onConflict((oc) => oc.column('campaign_id').doNothing())
    .execute();
}

/** A claim's reserved reward and judge fees: the most its approval and reviews may be paid. */
async function learnClaim(event: TesseraEvent<'tasks.assignment.claimed.v1'>, trx: Transaction<LedgerDB>) {
  const { reward, judge_fee: judgeFee } = event.data;
  await trx
    .insertInto('ledger_claims')
    .values({
      assignment_id: canonicalId(event.data.assignment_id),
      campaign_id: canonicalId(event.data.campaign_id),
      contributor_id: canonicalId(event.data.contributor_id),
      currency: reward.currency,
      reward: reward.amount,
      // A fee in another currency than the reward's cannot be paid from the same budget.
      judge_fee: judgeFee && judgeFee.currency === reward.currency ? judgeFee.amount : 0,
      max_judges: event.data.max_judges ?? DEFAULT_MAX_JUDGES,
      rewarded_submission_id: null,
    })
    .onConflict((oc) => oc.column('assignment_id').doNothing())
    .execute();
}

async function returnBudget(
  deps: FlowDeps,
  event: TesseraEvent<'tasks.campaign.completed.v1' | 'tasks.campaign.cancelled.v1'>,
  trx: Transaction<LedgerDB>,
): Promise<void> {
  const campaignId = canonicalId(event.data.campaign_id);
  // The budget goes back to the company that funded it, in the currency it was funded in. Locked
  // until the handler commits, against a funding decided at the same time (see `closedCampaign`).
  const known = await trx
    .selectFrom('campaign_companies')
    .select(['company_id', 'currency'])
    .where('campaign_id', '=', campaignId)
    .forUpdate()
    .executeTakeFirst();
  const companyId = known?.company_id ?? canonicalId(event.data.company_id);
  const currency = known?.currency ?? deps.currency;

  // A balancing debit moves whatever the budget still holds (up to this ceiling), so the request,
  // and with it the derived id's body, is the same however much is left: a repeat is a replay.
  const transferId = transferIds.campaignReturn(campaignId);
  const moved = await moveOnce(deps, [
    {
      id: transferId,
      debit_account: accountIds.campaignBudget(campaignId),
      credit_account: accountIds.companyCredits(companyId),
      amount: Number.MAX_SAFE_INTEGER,
      balancing_debit: true,
      currency,
      code: 'refund',
      metadata: { campaign_id: campaignId, company_id: companyId },
    },
  ]);
  if (!moved.ok) {
    // Nothing the sweep does can be refused by the rules; a refusal is a bug to look at.
    throw new Error(`returning the budget of campaign ${campaignId} was refused: ${moved.rejection.code}`);
  }
  const [swept] = moved.transfers;
  const returned = buildEvent(
    'ledger.campaign.budget-returned.v1',
    {
      campaign_id: campaignId,
      company_id: companyId,
      amount: { amount: swept?.amount ?? 0, currency },
      transfer_id: transferId,
    },
    causedBy(event, campaignId),
  );
  await publishOutcome(trx, outcomeKey(returned.type, campaignId), returned);
}
