import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, CODE_LENGTH, newReferralCode, normalizeCode } from './code.ts';
import { decideReferral, decideSecondLevel, type Party, qualifies, rewardFor } from './decide.ts';

const rules = { qualifyingApprovals: 5, reward: 500, secondLevelReward: 100, currency: 'USD' };
const active = (id: string, role = 'contributor'): Party => ({ id, role, status: 'active' });

describe('referral codes', () => {
  it('are 8 symbols of an alphabet without look-alikes, and fit the signup contract', () => {
    expect(CODE_ALPHABET).toHaveLength(32);
    expect(CODE_ALPHABET).not.toMatch(/[0O1I]/);
    expect(new Set(CODE_ALPHABET).size).toBe(32);
    for (let i = 0; i < 200; i++) {
      const code = newReferralCode();
      expect(code).toHaveLength(CODE_LENGTH);
      expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
      expect(code).toMatch(/^[A-Z0-9]{4,16}$/);
    }
  });

  it('use every symbol the picker chooses', () => {
    let i = 0;
    expect(newReferralCode(() => i++)).toBe('ABCDEFGH');
    expect(newReferralCode(() => 31)).toBe('99999999');
  });

  it('are random (no two alike in a thousand)', () => {
    const codes = new Set(Array.from({ length: 1000 }, () => newReferralCode()));
    expect(codes.size).toBe(1000);
  });

  it('are matched case-insensitively', () => {
    expect(normalizeCode(' abcd2345 ')).toBe('ABCD2345');
  });
});

describe('a signup with a referral code', () => {
  const newUser = active('u-new');

  it('is referred by the code owner', () => {
    expect(decideReferral(newUser, active('u-owner'))).toEqual({ outcome: 'pending', referrerId: 'u-owner' });
  });

  it('with an unknown code makes nothing', () => {
    expect(decideReferral(newUser, undefined)).toEqual({ outcome: 'none', why: 'UNKNOWN_CODE' });
  });

  it('with its own code is a rejected self-referral', () => {
    expect(decideReferral(newUser, active('u-new'))).toEqual({
      outcome: 'rejected',
      reason_code: 'SELF_REFERRAL',
    });
  });

  it('makes nothing for a suspended or erased owner, or a company user on either side', () => {
    expect(decideReferral(newUser, { ...active('o'), status: 'suspended' }).outcome).toBe('none');
    expect(decideReferral(newUser, { ...active('o'), status: 'erased' }).outcome).toBe('none');
    expect(decideReferral(active('u-new', 'company'), active('o')).outcome).toBe('none');
    expect(decideReferral(newUser, active('o', 'company')).outcome).toBe('none');
  });
});

describe('the second level', () => {
  const chain = { referredId: 'c', referrerId: 'b', grandReferrer: active('a') };

  it('goes to the referrer’s own referrer only when configured', () => {
    expect(decideSecondLevel(rules, chain)).toBe('a');
    expect(decideSecondLevel({ secondLevelReward: 0 }, chain)).toBeUndefined();
    expect(decideSecondLevel(rules, { ...chain, grandReferrer: undefined })).toBeUndefined();
  });

  it('never closes a loop or pays an inactive user', () => {
    expect(decideSecondLevel(rules, { ...chain, grandReferrer: active('c') })).toBeUndefined();
    expect(decideSecondLevel(rules, { ...chain, grandReferrer: active('b') })).toBeUndefined();
    expect(
      decideSecondLevel(rules, { ...chain, grandReferrer: { ...active('a'), status: 'suspended' } }),
    ).toBeUndefined();
  });
});

describe('qualification', () => {
  it('happens to a pending referral at the qualifying count', () => {
    expect(qualifies({ status: 'pending', approvals: 4 }, rules)).toBe(false);
    expect(qualifies({ status: 'pending', approvals: 5 }, rules)).toBe(true);
  });

  it('never happens to a rejected or already qualified referral', () => {
    expect(qualifies({ status: 'rejected', approvals: 9 }, rules)).toBe(false);
    expect(qualifies({ status: 'qualified', approvals: 9 }, rules)).toBe(false);
  });

  it('pays each level its own amount', () => {
    expect(rewardFor(1, rules)).toEqual({ amount: 500, currency: 'USD' });
    expect(rewardFor(2, rules)).toEqual({ amount: 100, currency: 'USD' });
  });
});
