import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type Cause, eventMeta } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { type Automation, decideAutomation } from './money.ts';
import { lockCampaignFacts, updateCampaign } from './repository.ts';

/**
 * Re-decides what the campaign does by itself (money.ts: pause, resume, announce its close) after
 * anything that can change it, and records the outcome with its event. Call it last in the
 * transaction: it locks the campaign.
 */
export async function reconcileCampaign(
  trx: Kysely<TasksDB>,
  campaignId: string,
  now: Date,
  cause?: Cause,
): Promise<Automation> {
  const campaign = await lockCampaignFacts(trx, campaignId);
  if (!campaign) return { kind: 'none' };
  const decision = decideAutomation(campaign.facts);
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
