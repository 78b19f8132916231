import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/service-kit';
import type { Insertable, Kysely, Selectable, UpdateObject } from 'kysely';
import { availableToPromise } from '../domain/campaign-money.ts';
import { completionOf } from '../domain/campaign.ts';
import { after, type Position } from '../routes/cursor.ts';
import { reconcileCampaign } from './campaign-money.ts';
import type {
  CampaignFundingRequestsTable,
  CampaignInvitationsTable,
  CampaignsTable,
  CampaignStatus,
  TasksDB,
} from './schema.ts';

type Db = Kysely<TasksDB>;

export type CampaignRow = Selectable<CampaignsTable>;
export type FundingRequestRow = Selectable<CampaignFundingRequestsTable>;
export type InvitationRow = Selectable<CampaignInvitationsTable>;

/** What caused a change, when another service's event did (for correlation and causation ids). */
export type Cause = Pick<TesseraEvent, 'id' | 'correlationid' | 'traceparent'>;

export async function insertCampaign(trx: Db, values: Insertable<CampaignsTable>): Promise<CampaignRow> {
  return trx.insertInto('campaigns').values(values).returningAll().executeTakeFirstOrThrow();
}

/** A campaign; `lock` holds its row until the transaction ends (campaign first, then tasks). */
export async function findCampaign(
  db: Db,
  id: string,
  options: { lock?: boolean } = {},
): Promise<CampaignRow | undefined> {
  let query = db.selectFrom('campaigns').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function updateCampaign(
  trx: Db,
  id: string,
  patch: UpdateObject<TasksDB, 'campaigns'>,
): Promise<CampaignRow> {
  return trx
    .updateTable('campaigns')
    .set({ updated_at: new Date(), ...patch })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Campaigns newest first. `companyIds` limits them to those companies (an empty list: none);
 * undefined lists every company's (admins).
 */
export async function listCampaigns(
  db: Db,
  filter: { companyIds?: readonly string[]; status?: CampaignStatus; after?: Position; limit: number },
): Promise<CampaignRow[]> {
  if (filter.companyIds?.length === 0) return [];
  let query = db.selectFrom('campaigns').selectAll();
  if (filter.companyIds) query = query.where('company_id', 'in', filter.companyIds);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.after) query = query.where(after(filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/** Whether a funding request of the campaign still waits for the ledger's answer. */
export async function hasPendingFunding(db: Db, campaignId: string): Promise<boolean> {
  const row = await db
    .selectFrom('campaign_funding_requests')
    .select('event_id')
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'pending')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Asks the ledger for money: the request row and the `funding-requested` event that carries it,
 * whose id the ledger's answer names as its causation id.
 */
export async function requestFunding(
  trx: Db,
  campaign: Pick<CampaignRow, 'id' | 'company_id'>,
  request: { purpose: 'activation' | 'top_up'; amount: number; currency: string; now: Date },
): Promise<FundingRequestRow> {
  const event = buildEvent(
    'tasks.campaign.funding-requested.v1',
    {
      campaign_id: campaign.id,
      company_id: campaign.company_id,
      budget: { amount: request.amount, currency: request.currency },
      purpose: request.purpose,
    },
    { subject: campaign.id },
  );
  const row = await trx
    .insertInto('campaign_funding_requests')
    .values({
      event_id: event.id,
      campaign_id: campaign.id,
      purpose: request.purpose,
      amount: request.amount,
      currency: request.currency,
      status: 'pending',
      created_at: request.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await appendToOutbox(trx, [event]);
  return row;
}

/** The funding request an answer of the ledger is about (by the request's event id), locked. */
export async function findFundingRequest(trx: Db, eventId: string): Promise<FundingRequestRow | undefined> {
  return trx
    .selectFrom('campaign_funding_requests')
    .selectAll()
    .where('event_id', '=', eventId)
    .forUpdate()
    .executeTakeFirst();
}

export async function answerFundingRequest(
  trx: Db,
  eventId: string,
  status: 'funded' | 'rejected',
  at: Date,
): Promise<void> {
  await trx
    .updateTable('campaign_funding_requests')
    .set({ status, answered_at: at })
    .where('event_id', '=', eventId)
    .execute();
}

/**
 * Ends a campaign, by hand or by its schedule: it takes no more claims, its open tasks close, and
 * once nothing in it is reserved or owed (now, or when the last claim settles) the completed or
 * cancelled event tells the ledger to return what is left. A campaign nothing was funded into
 * announces nothing: the ledger has nothing to return. The caller holds the campaign's row lock
 * and checked that the campaign may close (domain/campaign.ts).
 */
export async function closeCampaign(
  trx: Db,
  campaign: CampaignRow,
  outcome: 'completed' | 'cancelled',
  options: { now: Date; cause?: Cause },
): Promise<CampaignRow> {
  const funded = Number(campaign.funded_amount) > 0;
  await updateCampaign(trx, campaign.id, {
    status: outcome,
    pause_reason: null,
    updated_at: options.now,
    ...(funded ? { close_event: outcome } : {}),
  });
  const closedTasks = await trx
    .updateTable('tasks')
    .set({ status: outcome === 'completed' ? 'completed' : 'archived', updated_at: options.now })
    .where('campaign_id', '=', campaign.id)
    .where('status', 'in', ['active', 'paused'])
    .returning('id')
    .execute();
  const reason_code = outcome === 'completed' ? 'campaign_completed' : 'campaign_cancelled';
  await appendToOutbox(
    trx,
    closedTasks.map((task) =>
      buildEvent(
        'tasks.task.closed.v1',
        { task_id: task.id, campaign_id: campaign.id, company_id: campaign.company_id, reason_code },
        options.cause ? causedBy(options.cause, task.id) : { subject: task.id },
      ),
    ),
  );
  if (funded) await reconcileCampaign(trx, campaign.id, options.cause);
  return (await findCampaign(trx, campaign.id)) as CampaignRow;
}

/**
 * Campaigns past their end date that are still running and have no funding request in flight
 * (money could otherwise arrive after the ledger swept the escrow): the schedule completes them.
 */
export async function endedCampaignIds(db: Db, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('campaigns')
    .select('id')
    .where('end_at', '<=', now)
    .where('status', 'in', ['active', 'paused'])
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('campaign_funding_requests')
            .select('event_id')
            .whereRef('campaign_funding_requests.campaign_id', '=', 'campaigns.id')
            .where('campaign_funding_requests.status', '=', 'pending'),
        ),
      ),
    )
    .orderBy('end_at')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

export async function countTasks(db: Db, campaignId: string): Promise<number> {
  const row = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Invites contributors to a campaign; inviting again changes nothing. */
export async function inviteContributors(
  trx: Db,
  campaignId: string,
  userIds: readonly string[],
  invitedBy: string,
  now: Date,
): Promise<void> {
  if (userIds.length === 0) return;
  await trx
    .insertInto('campaign_invitations')
    .values(
      userIds.map((userId) => ({
        campaign_id: campaignId,
        user_id: userId,
        invited_by: invitedBy,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['campaign_id', 'user_id']).doNothing())
    .execute();
}

export async function listInvitations(
  db: Db,
  campaignId: string,
  page: { after?: Position; limit: number },
): Promise<InvitationRow[]> {
  let query = db.selectFrom('campaign_invitations').selectAll().where('campaign_id', '=', campaignId);
  if (page.after) query = query.where(after(page.after, 'created_at', 'user_id'));
  return query.orderBy('created_at', 'desc').orderBy('user_id', 'desc').limit(page.limit).execute();
}

/** Withdraws an invitation; false when there was none. */
export async function uninvite(db: Db, campaignId: string, userId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('campaign_invitations')
    .where('campaign_id', '=', campaignId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

// ---------------------------------------------------------------------------------------------
// Presenters: the API's shape of a campaign. Amounts never go below zero on the way out (a reward
// the ledger paid before the approval reached tasks leaves `owed` briefly negative, for instance).

const money = (amount: number, currency: string) => ({ amount: Math.max(0, amount), currency });

function moneyOf(campaign: CampaignRow) {
  return {
    funded: Number(campaign.funded_amount),
    spent: Number(campaign.spent_amount),
    returned: Number(campaign.returned_amount),
    reserved: Number(campaign.reserved_amount),
    owed: Number(campaign.owed_amount),
  };
}

export function presentCampaign(campaign: CampaignRow) {
  const sums = moneyOf(campaign);
  const currency = campaign.currency;
  const error = campaign.last_funding_error;
  return {
    id: campaign.id,
    company_id: campaign.company_id,
    name: campaign.name,
    description: campaign.description,
    budget: money(Number(campaign.budget_amount), currency),
    target_count: campaign.target_count,
    start_at: campaign.start_at?.toISOString() ?? null,
    end_at: campaign.end_at?.toISOString() ?? null,
    is_private: campaign.is_private,
    status: campaign.status,
    pause_reason: campaign.pause_reason,
    last_funding_error: error ? { code: error.code, detail: error.detail, at: error.at } : null,
    funded: money(sums.funded, currency),
    spent: money(sums.spent, currency),
    remaining: money(sums.funded - sums.spent - sums.returned, currency),
    available: money(availableToPromise(sums), currency),
    approved_count: campaign.approved_count,
    created_at: campaign.created_at.toISOString(),
    updated_at: campaign.updated_at.toISOString(),
  };
}

export type CampaignView = ReturnType<typeof presentCampaign>;

export function presentStats(campaign: CampaignRow, tasks: number) {
  const sums = moneyOf(campaign);
  const currency = campaign.currency;
  return {
    campaign_id: campaign.id,
    received: campaign.received_count,
    approved: campaign.approved_count,
    rejected: campaign.rejected_count,
    pending_review: Math.max(0, campaign.received_count - campaign.approved_count - campaign.rejected_count),
    spent: money(sums.spent, currency),
    reserved: money(sums.reserved, currency),
    owed: money(sums.owed, currency),
    remaining: money(sums.funded - sums.spent - sums.returned, currency),
    completion: completionOf(campaign.approved_count, campaign.target_count),
    tasks,
  };
}

export function presentInvitation(invitation: InvitationRow) {
  return { user_id: invitation.user_id, created_at: invitation.created_at.toISOString() };
}
