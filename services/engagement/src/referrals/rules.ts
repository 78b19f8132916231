import type { EngagementConfig } from '../config.ts';
import type { ReferralRules } from './decide.ts';

export function rulesOf(config: EngagementConfig): ReferralRules {
  return {
    qualifyingApprovals: config.ENGAGEMENT_REFERRAL_QUALIFYING_APPROVALS,
    reward: config.ENGAGEMENT_REFERRAL_REWARD,
    secondLevelReward: config.ENGAGEMENT_REFERRAL_SECOND_LEVEL_REWARD,
    currency: config.ENGAGEMENT_REFERRAL_CURRENCY,
  };
}
