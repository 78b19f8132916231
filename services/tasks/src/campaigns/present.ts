import { completionOf } from './decide.ts';
import { availableToPromise } from './money.ts';
import { type CampaignRecord, type InvitationRecord, moneyOf } from './repository.ts';

// The API's shape of a campaign. Amounts never go below zero on the way out (a reward the ledger
// paid before the approval reached tasks leaves `owed` briefly negative, for instance).

const money = (amount: number, currency: string) => ({ amount: Math.max(0, amount), currency });

export function presentCampaign(campaign: CampaignRecord) {
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
    judge_fee: money(Number(campaign.judge_fee_amount), currency),
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

export function presentStats(campaign: CampaignRecord, tasks: number) {
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

export function presentInvitation(invitation: InvitationRecord) {
  return { user_id: invitation.user_id, created_at: invitation.created_at.toISOString() };
}
