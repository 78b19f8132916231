import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta, orRefuse, refusal } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { type CampaignCommand, decideCampaignCommand, decideSchedule } from './decide.ts';
import { reconcileCampaign } from './reconcile.ts';
import {
  type CampaignRecord,
  closeOpenTasks,
  deleteInvitation,
  findCampaign,
  hasPendingFunding,
  insertCampaign,
  insertFundingRequest,
  insertInvitations,
  lockCampaigns,
  updateCampaign,
} from './repository.ts';

/**
 * What a company does to its campaigns. Each use case runs in the caller's transaction, takes the
 * campaign's row lock first (then tasks, the order every claim and settlement uses), decides with
 * decide.ts, and writes the change with its events. The caller checked the company's access.
 */

type Db = Kysely<TasksDB>;

export const campaignNotFound = () => refusal('not_found', 'CAMPAIGN_NOT_FOUND', 'No such campaign.');

interface Money {
  amount: number;
  currency: string;
}

export interface DraftCampaign {
  companyId: string;
  createdBy: string;
  name: string;
  description: string;
  budget: Money;
  targetCount: number | null;
  startAt: Date | null;
  endAt: Date | null;
  isPrivate: boolean;
  /** In the budget's currency (the body schema checks it). */
  judgeFee: number;
}

export async function draftCampaign(trx: Db, draft: DraftCampaign, now: Date): Promise<CampaignRecord> {
  const campaign = await insertCampaign(trx, {
    id: randomUUID(),
    company_id: draft.companyId,
    name: draft.name,
    description: draft.description,
    currency: draft.budget.currency,
    budget_amount: draft.budget.amount,
    target_count: draft.targetCount,
    start_at: draft.startAt,
    end_at: draft.endAt,
    is_private: draft.isPrivate,
    judge_fee_amount: draft.judgeFee,
    status: 'draft',
    pause_reason: null,
    last_funding_error: null,
    funded_amount: 0,
    spent_amount: 0,
    returned_amount: 0,
    reserved_amount: 0,
    owed_amount: 0,
    close_event: null,
    created_by: draft.createdBy,
    created_at: now,
    updated_at: now,
  });
  await appendToOutbox(trx, [
    buildEvent(
      'tasks.campaign.created.v1',
      {
        campaign_id: campaign.id,
        company_id: campaign.company_id,
        budget: draft.budget,
        target_count: campaign.target_count,
        start_at: campaign.start_at?.toISOString() ?? null,
        end_at: campaign.end_at?.toISOString() ?? null,
        is_private: campaign.is_private,
      },
      eventMeta(campaign.id, now),
    ),
  ]);
  return campaign;
}

/** The fields a company may change; undefined leaves one as it is, null clears it. */
export interface CampaignEdit {
  name?: string | undefined;
  description?: string | undefined;
  budget?: Money | undefined;
  targetCount?: number | null | undefined;
  startAt?: Date | null | undefined;
  endAt?: Date | null | undefined;
  isPrivate?: boolean | undefined;
  judgeFee?: Money | undefined;
}

export async function editCampaign(
  trx: Db,
  id: string,
  edit: CampaignEdit,
  now: Date,
): Promise<CampaignRecord> {
  const current = await lockedCampaign(trx, id, edit.budget ? 'edit-budget' : 'edit', {
    now,
    currency: edit.budget?.currency,
  });
  const currency = current.currency;
  if (edit.judgeFee && edit.judgeFee.currency !== currency) {
    throw refusal(
      'unprocessable',
      'CURRENCY_MISMATCH',
      `The judge fee must be in the campaign's currency, ${currency}.`,
    );
  }
  orRefuse(
    decideSchedule(
      {
        start_at: edit.startAt === undefined ? current.start_at : edit.startAt,
        end_at: edit.endAt === undefined ? current.end_at : edit.endAt,
      },
      { now, endChanged: edit.endAt !== undefined },
    ),
  );
  const updated = await updateCampaign(
    trx,
    current.id,
    {
      ...(edit.name !== undefined ? { name: edit.name } : {}),
      ...(edit.description !== undefined ? { description: edit.description } : {}),
      ...(edit.budget ? { budget_amount: edit.budget.amount } : {}),
      ...(edit.targetCount !== undefined ? { target_count: edit.targetCount } : {}),
      ...(edit.startAt !== undefined ? { start_at: edit.startAt } : {}),
      ...(edit.endAt !== undefined ? { end_at: edit.endAt } : {}),
      ...(edit.isPrivate !== undefined ? { is_private: edit.isPrivate } : {}),
      ...(edit.judgeFee !== undefined ? { judge_fee_amount: edit.judgeFee.amount } : {}),
    },
    now,
  );
  // A raised target resumes a campaign paused for target_reached; a lowered one may pause it.
  if (updated.target_count === current.target_count) return updated;
  await reconcileCampaign(trx, current.id, now);
  return reread(trx, current.id);
}

/** Asks the ledger to fund a draft's budget; the campaign waits in `funding` for the answer. */
export async function activateCampaign(trx: Db, id: string, now: Date): Promise<CampaignRecord> {
  const current = await lockedCampaign(trx, id, 'activate', { now });
  await requestFunding(trx, current, {
    purpose: 'activation',
    amount: Number(current.budget_amount),
    currency: current.currency,
    now,
  });
  return updateCampaign(trx, current.id, { status: 'funding' }, now);
}

/** Asks the ledger to add `amount` to a running campaign's budget. */
export async function topUpCampaign(trx: Db, id: string, amount: Money, now: Date): Promise<CampaignRecord> {
  const current = await lockedCampaign(trx, id, 'top-up', { now, currency: amount.currency });
  await requestFunding(trx, current, { purpose: 'top_up', ...amount, now });
  return updateCampaign(trx, current.id, {}, now);
}

/** Stops taking claims until resumed by hand; the automation never resumes it. */
export async function pauseCampaign(trx: Db, id: string, now: Date): Promise<CampaignRecord> {
  const current = await lockedCampaign(trx, id, 'pause', { now });
  const paused = await updateCampaign(trx, current.id, { status: 'paused', pause_reason: 'manual' }, now);
  await appendToOutbox(trx, [
    buildEvent(
      'tasks.campaign.paused.v1',
      { campaign_id: current.id, company_id: current.company_id, reason_code: 'manual' },
      eventMeta(current.id, now),
    ),
  ]);
  return paused;
}

/** Takes claims again; a campaign that cannot pay or met its target pauses again at once. */
export async function resumeCampaign(trx: Db, id: string, now: Date): Promise<CampaignRecord> {
  const current = await lockedCampaign(trx, id, 'resume', { now });
  await updateCampaign(trx, current.id, { status: 'active', pause_reason: null }, now);
  await appendToOutbox(trx, [
    buildEvent(
      'tasks.campaign.resumed.v1',
      { campaign_id: current.id, company_id: current.company_id },
      eventMeta(current.id, now),
    ),
  ]);
  await reconcileCampaign(trx, current.id, now);
  return reread(trx, current.id);
}

/** Cancels or completes a campaign by hand (closeCampaign says what that does). */
export async function endCampaign(
  trx: Db,
  id: string,
  command: 'cancel' | 'complete',
  now: Date,
): Promise<CampaignRecord> {
  const campaign = await findCampaign(trx, id, { lock: true });
  if (!campaign) throw campaignNotFound();
  const fundingPending = await hasPendingFunding(trx, campaign.id);
  orRefuse(decideCampaignCommand(campaign, { command, now, fundingPending }));
  return closeCampaign(trx, campaign, command === 'cancel' ? 'cancelled' : 'completed', { now });
}

/**
 * Ends a campaign, by hand or by its schedule: it takes no more claims, its open tasks close, and
 * once nothing in it is reserved or owed (now, or when the last claim settles) the completed or
 * cancelled event tells the ledger to return what is left. A campaign nothing was funded into
 * announces nothing: the ledger has nothing to return. The caller holds the campaign's row lock
 * and decided that the campaign may close.
 */
export async function closeCampaign(
  trx: Db,
  campaign: CampaignRecord,
  outcome: 'completed' | 'cancelled',
  options: { now: Date; cause?: Cause },
): Promise<CampaignRecord> {
  const { now, cause } = options;
  const funded = Number(campaign.funded_amount) > 0;
  await updateCampaign(
    trx,
    campaign.id,
    { status: outcome, pause_reason: null, ...(funded ? { close_event: outcome } : {}) },
    now,
  );
  const closedTasks = await closeOpenTasks(
    trx,
    campaign.id,
    outcome === 'completed' ? 'completed' : 'archived',
    now,
  );
  const reason_code = outcome === 'completed' ? 'campaign_completed' : 'campaign_cancelled';
  await appendToOutbox(
    trx,
    closedTasks.map((taskId) =>
      buildEvent(
        'tasks.task.closed.v1',
        { task_id: taskId, campaign_id: campaign.id, company_id: campaign.company_id, reason_code },
        eventMeta(taskId, now, cause),
      ),
    ),
  );
  if (funded) await reconcileCampaign(trx, campaign.id, now, cause);
  return reread(trx, campaign.id);
}

/** Invites contributors to a private campaign (inviting again changes nothing). */
export async function inviteToCampaign(
  trx: Db,
  id: string,
  invitation: { userIds: readonly string[]; invitedBy: string },
  now: Date,
): Promise<void> {
  const current = await lockedCampaign(trx, id, 'invite', { now });
  await insertInvitations(trx, current.id, invitation.userIds, invitation.invitedBy, now);
}

/**
 * Withdraws an invitation under the campaign's lock, as a claim re-reads invitations under it
 * (assignments/handle.ts `claimTask`): a claim made before the withdrawal stands, none after.
 */
export async function withdrawInvitation(trx: Db, campaignId: string, userId: string): Promise<void> {
  await lockCampaigns(trx, [campaignId]);
  if (!(await deleteInvitation(trx, campaignId, userId)))
    throw refusal('not_found', 'INVITATION_NOT_FOUND', 'This contributor is not invited to the campaign.');
}

/** The campaign, locked, once decide.ts accepts `command` in its state. */
async function lockedCampaign(
  trx: Db,
  id: string,
  command: CampaignCommand,
  context: { now: Date; currency?: string },
): Promise<CampaignRecord> {
  const campaign = await findCampaign(trx, id, { lock: true });
  if (!campaign) throw campaignNotFound();
  orRefuse(decideCampaignCommand(campaign, { ...context, command }));
  return campaign;
}

async function reread(trx: Db, id: string): Promise<CampaignRecord> {
  return (await findCampaign(trx, id)) as CampaignRecord;
}

/**
 * Asks the ledger for money: the request row and the `funding-requested` event that carries it,
 * whose id the ledger's answer names as its causation id.
 */
async function requestFunding(
  trx: Db,
  campaign: Pick<CampaignRecord, 'id' | 'company_id'>,
  request: { purpose: 'activation' | 'top_up'; amount: number; currency: string; now: Date },
): Promise<void> {
  const event = buildEvent(
    'tasks.campaign.funding-requested.v1',
    {
      campaign_id: campaign.id,
      company_id: campaign.company_id,
      budget: { amount: request.amount, currency: request.currency },
      purpose: request.purpose,
    },
    eventMeta(campaign.id, request.now),
  );
  await insertFundingRequest(trx, {
    event_id: event.id,
    campaign_id: campaign.id,
    purpose: request.purpose,
    amount: request.amount,
    currency: request.currency,
    status: 'pending',
    created_at: request.now,
  });
  await appendToOutbox(trx, [event]);
}
