import { after, isUuid, notParked, type Position, type Principal } from '@tessera/service-kit';
import { type Insertable, type Kysely, type Selectable, sql, type UpdateObject } from 'kysely';
import type {
  CampaignFundingRequestsTable,
  CampaignInvitationsTable,
  CampaignsTable,
  TasksDB,
} from '../db/schema.ts';
import type { CampaignStatus } from './decide.ts';
import { APPEAL_NEWS_GRACE_MS, type CampaignFacts } from './money.ts';

type Db = Kysely<TasksDB>;

export type CampaignRecord = Selectable<CampaignsTable>;
export type FundingRequestRecord = Selectable<CampaignFundingRequestsTable>;
export type InvitationRecord = Selectable<CampaignInvitationsTable>;

export async function insertCampaign(trx: Db, values: Insertable<CampaignsTable>): Promise<CampaignRecord> {
  return trx.insertInto('campaigns').values(values).returningAll().executeTakeFirstOrThrow();
}

/** A campaign; `lock` holds its row until the transaction ends (campaign first, then tasks). */
export async function findCampaign(
  db: Db,
  id: string,
  options: { lock?: boolean } = {},
): Promise<CampaignRecord | undefined> {
  let query = db.selectFrom('campaigns').selectAll().where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/**
 * Locks these campaigns in id order, as `findCampaign` locks one. A transaction that may hold
 * several (a consumer's batch) takes them all here first: two transactions then never hold two
 * campaigns in opposite orders, nor a campaign and an assignment in opposite orders.
 */
export async function lockCampaigns(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .selectFrom('campaigns')
    .select('id')
    .where('id', 'in', [...new Set(ids.map((id) => id.toLowerCase()))])
    .orderBy('id')
    .forUpdate()
    .execute();
}

export async function updateCampaign(
  trx: Db,
  id: string,
  patch: UpdateObject<TasksDB, 'campaigns'>,
  now: Date,
): Promise<CampaignRecord> {
  return trx
    .updateTable('campaigns')
    .set({ ...patch, updated_at: now })
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
): Promise<CampaignRecord[]> {
  if (filter.companyIds?.length === 0) return [];
  let query = db.selectFrom('campaigns').selectAll();
  if (filter.companyIds) query = query.where('company_id', 'in', filter.companyIds);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.after) query = query.where(after(filter.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/** The companies a company user belongs to (an API key: its own), for listing "my campaigns". */
export async function companiesOf(db: Db, principal: Principal): Promise<string[]> {
  if (principal.companyId !== undefined) return [principal.companyId.toLowerCase()];
  if (!isUuid(principal.userId)) return [];
  const rows = await db
    .selectFrom('company_members')
    .select('company_id')
    .where('user_id', '=', principal.userId.toLowerCase())
    .where('removed', '=', false)
    .execute();
  return rows.map((row) => row.company_id);
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

export async function insertFundingRequest(
  trx: Db,
  values: Insertable<CampaignFundingRequestsTable>,
): Promise<FundingRequestRecord> {
  return trx.insertInto('campaign_funding_requests').values(values).returningAll().executeTakeFirstOrThrow();
}

/** The funding request an answer of the ledger is about (by the request's event id), locked. */
export async function findFundingRequest(
  trx: Db,
  eventId: string,
): Promise<FundingRequestRecord | undefined> {
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

/** Closes a campaign's open tasks (completed or archived with it); returns their ids. */
export async function closeOpenTasks(
  trx: Db,
  campaignId: string,
  status: 'completed' | 'archived',
  now: Date,
): Promise<string[]> {
  const rows = await trx
    .updateTable('tasks')
    .set({ status, updated_at: now })
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', ['active', 'paused'])
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Campaigns past their end date that are still running and have no funding request in flight
 * (money could otherwise arrive after the ledger swept the escrow): the schedule completes them.
 * Those the job `parkedBy` parked are left out.
 */
export async function endedCampaignIds(
  db: Db,
  now: Date,
  limit: number,
  parkedBy?: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('campaigns')
    .select('id')
    .where('end_at', '<=', now)
    .$if(parkedBy !== undefined, (q) => q.where(notParked(parkedBy!, 'campaigns.id')))
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
export async function insertInvitations(
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
): Promise<InvitationRecord[]> {
  let query = db.selectFrom('campaign_invitations').selectAll().where('campaign_id', '=', campaignId);
  if (page.after) query = query.where(after(page.after, 'created_at', 'user_id'));
  return query.orderBy('created_at', 'desc').orderBy('user_id', 'desc').limit(page.limit).execute();
}

/** Withdraws an invitation; false when there was none. */
export async function deleteInvitation(db: Db, campaignId: string, userId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('campaign_invitations')
    .where('campaign_id', '=', campaignId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

// ---- money --------------------------------------------------------------------------------------
// What the ledger reported changes the campaign's sums here; what claims hold changes them in
// assignments/repository.ts (reserveSlot, applyTransition). Nothing else writes them.

/** What the ledger reported about a campaign's escrow; amounts are added, so order does not matter. */
export async function recordLedgerMovement(
  trx: Db,
  campaignId: string,
  delta: { funded?: number; spent?: number; returned?: number; owed?: number },
  now: Date,
): Promise<void> {
  await trx
    .updateTable('campaigns')
    .set({
      funded_amount: sql`funded_amount + ${delta.funded ?? 0}`,
      spent_amount: sql`spent_amount + ${delta.spent ?? 0}`,
      returned_amount: sql`returned_amount + ${delta.returned ?? 0}`,
      owed_amount: sql`owed_amount + ${delta.owed ?? 0}`,
      updated_at: now,
    })
    .where('id', '=', campaignId)
    .execute();
}

/**
 * A campaign, locked, and the facts its automation decides on (campaigns/money.ts), with the latest
 * appeal window of its rejections not appealed yet, read in the same query (`assignments_appealable`).
 */
export async function lockCampaignFacts(
  trx: Db,
  campaignId: string,
): Promise<{ id: string; company_id: string; facts: CampaignFacts } | undefined> {
  const campaign = await trx
    .selectFrom('campaigns')
    .selectAll('campaigns')
    .select((eb) =>
      eb
        .selectFrom('assignments')
        .select((sub) => sub.fn.max('assignments.appealable_until').as('latest'))
        .whereRef('assignments.campaign_id', '=', 'campaigns.id')
        .where('assignments.status', '=', 'rejected')
        .where('assignments.appeal_state', '=', 'none')
        .as('appealable_until'),
    )
    .where('campaigns.id', '=', campaignId)
    .forUpdate()
    .executeTakeFirst();
  if (!campaign) return undefined;
  const cheapest = await cheapestOpenHold(trx, campaignId).executeTakeFirst();
  return {
    id: campaign.id,
    company_id: campaign.company_id,
    facts: factsOf(campaign, cheapest?.claim_hold_amount ?? null, campaign.appealable_until),
  };
}

/**
 * Ended campaigns whose close is not announced yet although nothing in them is reserved or owed:
 * what held them back was a rejection that could still be appealed, and the schedule job
 * re-decides them once no window is open at `now` any more (`campaigns_closing`). Those the job
 * `parkedBy` parked are left out.
 */
export async function closableCampaignIds(
  db: Db,
  now: Date,
  limit: number,
  parkedBy?: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('campaigns')
    .select('id')
    .where('close_event', 'is not', null)
    .where('close_event_sent_at', 'is', null)
    .where('reserved_amount', '=', 0)
    .where('owed_amount', '<=', 0)
    .$if(parkedBy !== undefined, (q) => q.where(notParked(parkedBy!, 'campaigns.id')))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('assignments')
            .select('assignments.id')
            .whereRef('assignments.campaign_id', '=', 'campaigns.id')
            .where('assignments.status', '=', 'rejected')
            .where('assignments.appeal_state', '=', 'none')
            .where('assignments.appealable_until', '>=', new Date(now.getTime() - APPEAL_NEWS_GRACE_MS)),
        ),
      ),
    )
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * What the cheapest open task of a campaign (active, a slot free) holds per claim. It runs on every
 * claim while the campaign's row is locked, so it walks `tasks_open_by_hold` in hold order and stops
 * at the first task with a free slot, instead of reading every task of the campaign (a min() over
 * them read all 20,000 of a large campaign's, under the lock).
 */
export function cheapestOpenHold(trx: Db, campaignId: string) {
  return trx
    .selectFrom('tasks')
    .select('claim_hold_amount')
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'active')
    .where((eb) => eb('slots_taken', '<', eb.ref('max_submissions')))
    .orderBy('claim_hold_amount')
    .limit(1);
}

export function moneyOf(campaign: CampaignRecord) {
  return {
    funded: Number(campaign.funded_amount),
    spent: Number(campaign.spent_amount),
    returned: Number(campaign.returned_amount),
    reserved: Number(campaign.reserved_amount),
    owed: Number(campaign.owed_amount),
  };
}

function factsOf(
  campaign: CampaignRecord,
  cheapestOpenReward: string | number | bigint | null,
  appealableUntil: Date | string | null,
): CampaignFacts {
  return {
    status: campaign.status,
    pause_reason: campaign.pause_reason,
    target_count: campaign.target_count,
    approved_count: campaign.approved_count,
    money: moneyOf(campaign),
    close_event: campaign.close_event,
    close_event_sent: campaign.close_event_sent_at !== null,
    cheapest_open_reward: cheapestOpenReward === null ? null : Number(cheapestOpenReward),
    appealable_until: appealableUntil === null ? null : new Date(appealableUntil),
  };
}
