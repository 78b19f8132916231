import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { type Automation, decideAutomation } from './money.ts';
import { lockCampaignFacts, updateCampaign } from './repository.ts';

/**
 * The campaigns a consumer's transaction has yet to re-decide, with the time and cause of the last
 * event that asked. A batch of approvals on one campaign asked once per event, each time locking
 * the campaign and reading its cheapest open task; what the campaign does by itself depends only
 * on where its sums end, so once at the end of the transaction decides the same.
 */
const deferred = new WeakMap<object, Map<string, { now: Date; cause: Cause | undefined }>>();

/** From now on in `trx`, `reconcileCampaign` waits for `reconcileDeferred` (a consumer's transaction). */
export function deferReconciles(trx: Kysely<TasksDB>): void {
  if (!deferred.has(trx)) deferred.set(trx, new Map());
}

/** Re-decides each campaign the transaction deferred, once, in id order (the order locks are taken). */
export async function reconcileDeferred(trx: Kysely<TasksDB>): Promise<void> {
  const waiting = deferred.get(trx);
  if (!waiting) return;
  deferred.delete(trx);
  for (const [campaignId, { now, cause }] of [...waiting].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await reconcileNow(trx, campaignId, now, cause);
  }
}

/**
 * Re-decides what the campaign does by itself (money.ts: pause, resume, announce its close) after
 * anything that can change it, and records the outcome with its event. Call it last in the
 * transaction: it locks the campaign. In a consumer's transaction it is done once per campaign when
 * the batch's handlers are done (`deferReconciles`); undefined then.
 */
export async function reconcileCampaign(
  trx: Kysely<TasksDB>,
  campaignId: string,
  now: Date,
  cause?: Cause,
): Promise<Automation | undefined> {
  const waiting = deferred.get(trx);
  if (waiting) {
    waiting.delete(campaignId);
    waiting.set(campaignId, { now, cause });
    return undefined;
  }
  return reconcileNow(trx, campaignId, now, cause);
}

async function reconcileNow(
  trx: Kysely<TasksDB>,
  campaignId: string,
  now: Date,
  cause: Cause | undefined,
): Promise<Automation> {
  const campaign = await lockCampaignFacts(trx, campaignId);
  if (!campaign) return { kind: 'none' };
  const decision = decideAutomation(campaign.facts, now);
  const ref = { campaign_id: campaign.id, company_id: campaign.company_id };
  const meta = eventMeta(campaign.id, now, cause);
  switch (decision.kind) {
    case 'none':
      break;
    case 'pause':
      await updateCampaign(trx, campaign.id, { status: 'paused', pause_reason: decision.reason }, now);
      await appendToOutbox(trx, [
        buildEvent('tasks.campaign.paused.v1', { ...ref, reason_code: decision.reason }, meta),
      ]);
      break;
    case 'resume':
      await updateCampaign(trx, campaign.id, { status: 'active', pause_reason: null }, now);
      await appendToOutbox(trx, [buildEvent('tasks.campaign.resumed.v1', ref, meta)]);
      break;
    case 'announce-close':
      await updateCampaign(trx, campaign.id, { close_event_sent_at: now }, now);
      await appendToOutbox(trx, [
        decision.event === 'completed'
          ? buildEvent('tasks.campaign.completed.v1', ref, meta)
          : buildEvent('tasks.campaign.cancelled.v1', ref, meta),
      ]);
      break;
  }
  return decision;
}
