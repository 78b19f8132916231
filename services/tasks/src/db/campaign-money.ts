import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/service-kit';
import { type Kysely, type Selectable, sql } from 'kysely';
import { type Automation, type CampaignFacts, decideAutomation } from '../domain/campaign-money.ts';
import type { AssignmentsTable, CampaignsTable, TasksDB } from './schema.ts';

type Db = Kysely<TasksDB>;

/**
 * Every change to a campaign's counters goes through here, in the caller's transaction. Locks are
 * always taken campaign first, then task, so claims, releases and settlements never deadlock.
 */

export type ReserveOutcome =
  'reserved' | 'campaign_not_active' | 'budget_exhausted' | 'quota_reached' | 'task_full';

/**
 * Takes one slot of a task for a claim: holds `reward` of the campaign's budget and one unit of
 * its quota, then one slot of the task. Each step is one conditional update, so concurrent claims
 * queue on the row and never overshoot; on any refusal the caller rolls back.
 */
export async function reserveSlot(
  trx: Db,
  claim: { campaignId: string; taskId: string; reward: number },
): Promise<ReserveOutcome> {
  const campaign = await trx
    .updateTable('campaigns')
    .set((eb) => ({
      reserved_amount: sql`reserved_amount + ${claim.reward}`,
      quota_taken: eb('quota_taken', '+', 1),
      updated_at: new Date(),
    }))
    .where('id', '=', claim.campaignId)
    .where('status', '=', 'active')
    .where(
      sql<boolean>`funded_amount - spent_amount - returned_amount - reserved_amount - owed_amount >= ${claim.reward}`,
    )
    .where((eb) => eb.or([eb('target_count', 'is', null), eb('quota_taken', '<', eb.ref('target_count'))]))
    .returning('id')
    .executeTakeFirst();
  if (!campaign) {
    const now = await trx
      .selectFrom('campaigns')
      .select(['status', 'target_count', 'quota_taken'])
      .select(
        sql<string>`funded_amount - spent_amount - returned_amount - reserved_amount - owed_amount`.as(
          'available',
        ),
      )
      .where('id', '=', claim.campaignId)
      .executeTakeFirst();
    if (!now || now.status !== 'active') return 'campaign_not_active';
    if (now.target_count !== null && now.quota_taken >= now.target_count) return 'quota_reached';
    return 'budget_exhausted';
  }
  const task = await trx
    .updateTable('tasks')
    .set((eb) => ({ slots_taken: eb('slots_taken', '+', 1) }))
    .where('id', '=', claim.taskId)
    .where((eb) => eb('slots_taken', '<', eb.ref('max_submissions')))
    .returning('id')
    .executeTakeFirst();
  return task ? 'reserved' : 'task_full';
}

/** How an assignment moved; each frees or converts what its claim held. */
export type AssignmentTransition =
  /** active → released / expired: the slot, the quota unit and the reserved reward are free. */
  | { kind: 'freed' }
  /** active → submitted: the work holds its slot until reviewed. */
  | { kind: 'submitted' }
  /** An expired or released claim whose submission arrived anyway: it takes its slot back. */
  | { kind: 'late-submitted' }
  /** submitted (or active) → approved: the reserved reward becomes owed until the ledger pays. */
  | { kind: 'approved'; owed: number }
  /** submitted (or active) → rejected: the slot, the quota unit and the reward are free. */
  | { kind: 'rejected' };

type Assignment = Pick<Selectable<AssignmentsTable>, 'task_id' | 'campaign_id' | 'reward_amount'>;

/** Applies what an assignment's transition does to its task's and campaign's counters. */
export async function applyTransition(
  trx: Db,
  assignment: Assignment,
  transition: AssignmentTransition,
): Promise<void> {
  const reward = Number(assignment.reward_amount);
  const campaign = trx.updateTable('campaigns').where('id', '=', assignment.campaign_id);
  const task = trx.updateTable('tasks').where('id', '=', assignment.task_id);
  const updatedAt = new Date();
  switch (transition.kind) {
    case 'freed':
    case 'rejected': {
      const rejected = transition.kind === 'rejected' ? 1 : 0;
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount - ${reward}`,
          quota_taken: eb('quota_taken', '-', 1),
          rejected_count: eb('rejected_count', '+', rejected),
          updated_at: updatedAt,
        }))
        .execute();
      await task
        .set((eb) => ({
          slots_taken: eb('slots_taken', '-', 1),
          rejected_count: eb('rejected_count', '+', rejected),
        }))
        .execute();
      return;
    }
    case 'submitted':
      await campaign
        .set((eb) => ({ received_count: eb('received_count', '+', 1), updated_at: updatedAt }))
        .execute();
      await task.set((eb) => ({ submitted_count: eb('submitted_count', '+', 1) })).execute();
      return;
    case 'late-submitted':
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount + ${reward}`,
          quota_taken: eb('quota_taken', '+', 1),
          received_count: eb('received_count', '+', 1),
          updated_at: updatedAt,
        }))
        .execute();
      await task
        .set((eb) => ({
          slots_taken: eb('slots_taken', '+', 1),
          submitted_count: eb('submitted_count', '+', 1),
        }))
        .execute();
      return;
    case 'approved':
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount - ${reward}`,
          owed_amount: sql`owed_amount + ${transition.owed}`,
          approved_count: eb('approved_count', '+', 1),
          updated_at: updatedAt,
        }))
        .execute();
      await task.set((eb) => ({ approved_count: eb('approved_count', '+', 1) })).execute();
      return;
  }
}

/** What the ledger reported about a campaign's escrow; amounts are added, so order does not matter. */
export async function recordLedgerMovement(
  trx: Db,
  campaignId: string,
  delta: { funded?: number; spent?: number; returned?: number; owed?: number },
): Promise<void> {
  await trx
    .updateTable('campaigns')
    .set({
      funded_amount: sql`funded_amount + ${delta.funded ?? 0}`,
      spent_amount: sql`spent_amount + ${delta.spent ?? 0}`,
      returned_amount: sql`returned_amount + ${delta.returned ?? 0}`,
      owed_amount: sql`owed_amount + ${delta.owed ?? 0}`,
      updated_at: new Date(),
    })
    .where('id', '=', campaignId)
    .execute();
}

/**
 * Re-decides what the campaign does by itself (domain/campaign-money.ts) after anything that can
 * change it, and records the outcome with its event. Call it last in the transaction.
 */
export async function reconcileCampaign(
  trx: Db,
  campaignId: string,
  cause?: Pick<TesseraEvent, 'id' | 'correlationid' | 'traceparent'>,
): Promise<Automation> {
  const campaign = await trx
    .selectFrom('campaigns')
    .selectAll()
    .where('id', '=', campaignId)
    .forUpdate()
    .executeTakeFirst();
  if (!campaign) return { kind: 'none' };
  const cheapest = await trx
    .selectFrom('tasks')
    .select((eb) => eb.fn.min('reward_amount').as('reward'))
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'active')
    .where((eb) => eb('slots_taken', '<', eb.ref('max_submissions')))
    .executeTakeFirst();
  const decision = decideAutomation(factsOf(campaign, cheapest?.reward ?? null));
  if (decision.kind === 'none') return decision;

  const ref = { campaign_id: campaign.id, company_id: campaign.company_id };
  const meta = {
    subject: campaign.id,
    ...(cause ? { correlationId: cause.correlationid, causationId: cause.id } : {}),
    ...(cause?.traceparent ? { traceparent: cause.traceparent } : {}),
  };
  const now = new Date();
  switch (decision.kind) {
    case 'pause':
      await trx
        .updateTable('campaigns')
        .set({ status: 'paused', pause_reason: decision.reason, updated_at: now })
        .where('id', '=', campaign.id)
        .execute();
      await appendToOutbox(trx, [
        buildEvent('tasks.campaign.paused.v1', { ...ref, reason_code: decision.reason }, meta),
      ]);
      break;
    case 'resume':
      await trx
        .updateTable('campaigns')
        .set({ status: 'active', pause_reason: null, updated_at: now })
        .where('id', '=', campaign.id)
        .execute();
      await appendToOutbox(trx, [buildEvent('tasks.campaign.resumed.v1', ref, meta)]);
      break;
    case 'announce-close':
      await trx
        .updateTable('campaigns')
        .set({ close_event_sent_at: now, updated_at: now })
        .where('id', '=', campaign.id)
        .execute();
      await appendToOutbox(trx, [
        decision.event === 'completed'
          ? buildEvent('tasks.campaign.completed.v1', ref, meta)
          : buildEvent('tasks.campaign.cancelled.v1', ref, meta),
      ]);
      break;
  }
  return decision;
}

export function factsOf(
  campaign: Selectable<CampaignsTable>,
  cheapestOpenReward: string | number | bigint | null,
): CampaignFacts {
  return {
    status: campaign.status,
    pause_reason: campaign.pause_reason,
    target_count: campaign.target_count,
    approved_count: campaign.approved_count,
    money: {
      funded: Number(campaign.funded_amount),
      spent: Number(campaign.spent_amount),
      returned: Number(campaign.returned_amount),
      reserved: Number(campaign.reserved_amount),
      owed: Number(campaign.owed_amount),
    },
    close_event: campaign.close_event,
    close_event_sent: campaign.close_event_sent_at !== null,
    cheapest_open_reward: cheapestOpenReward === null ? null : Number(cheapestOpenReward),
  };
}
