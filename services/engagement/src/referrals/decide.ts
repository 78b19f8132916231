import type { ReferralStatus } from './tables.ts';

export interface ReferralRules {
  /** Approved submissions the referred user needs. */
  qualifyingApprovals: number;
  reward: number;
  secondLevelReward: number;
  currency: string;
}

/** A user as the users read model knows them. */
export interface Party {
  id: string;
  role: string | null;
  status: 'active' | 'suspended' | 'erased';
}

export type ReferralDecision =
  | { outcome: 'none'; why: 'UNKNOWN_CODE' | 'COMPANY_USER' | 'REFERRER_UNAVAILABLE' }
  | { outcome: 'rejected'; reason_code: 'SELF_REFERRAL' }
  | { outcome: 'pending'; referrerId: string };

/**
 * What a signup with a referral code makes: nothing when the code is unknown, or either side is
 * a company user (companies neither refer nor are referred), or the code's owner is erased or
 * suspended; a rejected referral, never paid, when the code is the new user's own; otherwise a
 * pending referral of the code's owner.
 */
export function decideReferral(referred: Party, owner: Party | undefined): ReferralDecision {
  if (!owner) return { outcome: 'none', why: 'UNKNOWN_CODE' };
  if (referred.role === 'company' || owner.role === 'company')
    return { outcome: 'none', why: 'COMPANY_USER' };
  if (owner.id === referred.id) return { outcome: 'rejected', reason_code: 'SELF_REFERRAL' };
  if (owner.status !== 'active') return { outcome: 'none', why: 'REFERRER_UNAVAILABLE' };
  return { outcome: 'pending', referrerId: owner.id };
}

/**
 * Whether the referrer's own referrer also gets a (level-2) referral of the new user: only when
 * the second level is configured, the referrer was referred themselves (not rejected), and that
 * grand-referrer is active and neither of the two already in the chain.
 */
export function decideSecondLevel(
  rules: Pick<ReferralRules, 'secondLevelReward'>,
  chain: { referredId: string; referrerId: string; grandReferrer: Party | undefined },
): string | undefined {
  const { referredId, referrerId, grandReferrer } = chain;
  if (rules.secondLevelReward <= 0 || !grandReferrer) return undefined;
  if (grandReferrer.status !== 'active' || grandReferrer.role === 'company') return undefined;
  if (grandReferrer.id === referredId || grandReferrer.id === referrerId) return undefined;
  return grandReferrer.id;
}

/** Whether a pending referral qualifies with this many approvals of the referred user. */
export function qualifies(
  referral: { status: ReferralStatus; approvals: number },
  rules: Pick<ReferralRules, 'qualifyingApprovals'>,
): boolean {
  return referral.status === 'pending' && referral.approvals >= rules.qualifyingApprovals;
}

/** What a qualified referral of a level pays its referrer. */
export function rewardFor(level: 1 | 2, rules: ReferralRules): { amount: number; currency: string } {
  return { amount: level === 1 ? rules.reward : rules.secondLevelReward, currency: rules.currency };
}
