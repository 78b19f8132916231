import { describe, expect, it } from 'vitest';
import { statementCause, statementCauseSchema } from './statement-cause.ts';

const submission = '5f0c1d2e-0000-4000-8000-000000000001';
const review = '7a7b7c7d-0000-4000-8000-000000000002';
const withdrawal = '9e9f9a9b-0000-4000-8000-000000000003';
const campaign = 'c0c1c2c3-0000-4000-8000-000000000004';

describe('statementCause', () => {
  it('names the approved submission and how its verdict was reached', () => {
    for (const [verdict, words] of [
      ['consensus', 'the judges agreed'],
      ['golden', 'it matched the known answer'],
      ['admin', 'an admin decided the split'],
      ['appeal', 'approved on appeal'],
    ] as const) {
      expect(
        statementCause('reward', { submission_id: submission, campaign_id: campaign, verdict }, 'posted'),
      ).toEqual({
        kind: 'reward',
        description: `Reward for your approved submission 5f0c1d2e (${words})`,
        submission_id: submission,
        campaign_id: campaign,
        verdict,
      });
    }
  });

  it('leaves the verdict out of rewards paid before it was recorded, and out when it is not one', () => {
    const old = statementCause('reward', { submission_id: submission }, 'posted');
    expect(old).toEqual({
      kind: 'reward',
      description: 'Reward for your approved submission 5f0c1d2e',
      submission_id: submission,
    });
    expect(statementCause('reward', { submission_id: submission, verdict: 'bribe' }, 'posted')).toEqual(old);
  });

  it('names the review behind a judge fee', () => {
    expect(statementCause('judge_fee', { review_id: review, submission_id: submission }, 'posted')).toEqual({
      kind: 'judge_fee',
      description: 'Fee for your review 7a7b7c7d of submission 5f0c1d2e',
      review_id: review,
      submission_id: submission,
    });
  });

  it('says where a withdrawal stands, by the line’s phase', () => {
    const words = ['pending', 'posted', 'voided', 'expired'].map(
      (phase) => statementCause('withdrawal', { withdrawal_id: withdrawal }, phase).description,
    );
    expect(words).toEqual([
      'Withdrawal 9e9f9a9b: held until it is paid out',
      'Withdrawal 9e9f9a9b: paid out',
      'Withdrawal 9e9f9a9b: cancelled, the amount is back',
      'Withdrawal 9e9f9a9b: expired, the amount is back',
    ]);
    expect(statementCause('withdrawal', { withdrawal_id: withdrawal }, 'posted').withdrawal_id).toBe(
      withdrawal,
    );
  });

  it('tells an admin’s bonus and penalty by their reason, and engagement’s bonuses by their kind', () => {
    expect(
      statementCause('bonus', { origin: 'adjustment', kind: 'bonus', reason: 'steady work' }, 'posted'),
    ).toEqual({ kind: 'bonus', description: 'Bonus: steady work', reason: 'steady work' });
    expect(statementCause('penalty', { origin: 'adjustment', reason: 'copied work' }, 'posted')).toEqual({
      kind: 'penalty',
      description: 'Penalty: copied work',
      reason: 'copied work',
    });
    expect(statementCause('bonus', { kind: 'bonus', reason_code: 'BADGE_UNLOCKED' }, 'posted').kind).toBe(
      'badge_bonus',
    );
    expect(statementCause('bonus', { kind: 'referral', referred_user_id: submission }, 'posted').kind).toBe(
      'referral_bonus',
    );
    expect(statementCause('bonus', { kind: 'bonus', reason_code: 'MISSION_DONE' }, 'posted')).toEqual({
      kind: 'bonus',
      description: 'Bonus: MISSION_DONE',
      reason: 'MISSION_DONE',
    });
  });

  it('names the campaign of a company’s budget lines, and never fails on a code it does not know', () => {
    expect(statementCause('campaign_funding', { campaign_id: campaign }, 'posted').description).toBe(
      'Budget for campaign c0c1c2c3',
    );
    expect(statementCause('platform_fee', { campaign_id: campaign }, 'posted').campaign_id).toBe(campaign);
    expect(statementCause('refund', { campaign_id: campaign }, 'posted').kind).toBe('refund');
    expect(statementCause('topup', {}, 'posted').kind).toBe('topup');
    expect(statementCause('something_new', {}, 'posted')).toEqual({
      kind: 'other',
      description: 'something_new',
    });
  });

  it('says a honeypot funding line is the platform paying a check review’s fee, the budget unchanged', () => {
    expect(
      statementCause(
        'honeypot_funding',
        { review_id: review, submission_id: submission, campaign_id: campaign, judge_id: withdrawal },
        'posted',
      ),
    ).toEqual({
      kind: 'honeypot_funding',
      description:
        "Platform-funded fee for a judge's check review of submission 5f0c1d2e: paid on to the judge, " +
        'your budget is unchanged',
      submission_id: submission,
      campaign_id: campaign,
      review_id: review,
    });
  });

  it('always gives what the response schema documents', () => {
    const codes = [
      'reward',
      'judge_fee',
      'withdrawal',
      'bonus',
      'penalty',
      'topup',
      'campaign_funding',
      'platform_fee',
      'refund',
      'honeypot_funding',
      'x',
    ];
    for (const code of codes) {
      const full: Record<string, string> = {
        submission_id: submission,
        review_id: review,
        withdrawal_id: withdrawal,
      };
      for (const metadata of [{}, full]) {
        expect(statementCauseSchema.safeParse(statementCause(code, metadata, 'posted')).success).toBe(true);
      }
    }
  });
});
