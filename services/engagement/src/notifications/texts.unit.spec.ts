import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  eventTexts,
  formatMoney,
  levelChangedText,
  type NotificationDraft,
  withdrawalHoldText,
} from './texts.ts';

const user = randomUUID();
const submission = randomUUID();
const task = randomUUID();
const withdrawal = randomUUID();
const ref = {
  submission_id: submission,
  assignment_id: randomUUID(),
  task_id: task,
  campaign_id: randomUUID(),
  contributor_id: user,
};
const usd = (amount: number) => ({ amount, currency: 'USD' });

function text<K extends keyof typeof eventTexts>(type: K, data: unknown): NotificationDraft {
  return (eventTexts[type] as (d: unknown) => NotificationDraft)(data);
}

describe('what each notification says', () => {
  it('formats money in the currency’s own exponent', () => {
    expect(formatMoney(usd(1250))).toBe('12.50 USD');
    expect(formatMoney({ amount: 500, currency: 'JPY' })).toBe('500 JPY');
    expect(formatMoney({ amount: 1234, currency: 'BHD' })).toBe('1.234 BHD');
  });

  it('tells the contributor their submission was approved, with its reward', () => {
    const draft = text('submissions.submission.approved.v1', { ...ref, reward: usd(250), xp_reward: 5 });
    expect(draft).toMatchObject({
      userId: user,
      kind: 'submission_approved',
      title: 'Submission approved',
      data: { submission_id: submission, task_id: task, reward: usd(250) },
      sourceKey: `submission-approved:${submission}`,
    });
    expect(draft.body).toContain('2.50 USD');
  });

  it('names the reasons of a rejection and keeps one notice per stage', () => {
    const review = text('submissions.submission.rejected.v1', {
      ...ref,
      reason_code: 'LOW_QUALITY',
      reason_codes: ['LOW_QUALITY', 'OFF_TOPIC'],
      stage: 'review',
    });
    expect(review.body).toBe('Your submission was not accepted (LOW_QUALITY, OFF_TOPIC).');
    const revision = text('submissions.submission.rejected.v1', {
      ...ref,
      reason_code: 'LOW_QUALITY',
      stage: 'revision',
    });
    expect(revision.sourceKey).not.toBe(review.sourceKey);
    expect(revision.data).toMatchObject({ reason_codes: ['LOW_QUALITY'], stage: 'revision' });
  });

  it('gives the deadline of a revision', () => {
    const draft = text('submissions.submission.revision-requested.v1', {
      ...ref,
      reason_codes: ['BLURRY'],
      deadline: '2026-03-05T12:00:00.000Z',
    });
    expect(draft.title).toBe('Revision requested');
    expect(draft.body).toContain('(BLURRY)');
    expect(draft.body).toContain('before 2026-03-05T12:00:00.000Z');
    expect(draft.data.deadline).toBe('2026-03-05T12:00:00.000Z');
  });

  it('tells who received money, keyed by the transfer', () => {
    const transfer = randomUUID();
    const reward = text('ledger.reward.paid.v1', {
      submission_id: submission,
      campaign_id: randomUUID(),
      contributor_id: user,
      amount: usd(300),
      transfer_id: transfer,
      campaign_remaining: usd(0),
    });
    expect(reward).toMatchObject({
      kind: 'money_received',
      title: 'Reward received',
      sourceKey: `money:${transfer}`,
    });
    expect(reward.body).toBe('3.00 USD for your approved submission is in your balance.');
    const judge = randomUUID();
    const fee = text('ledger.judge-fee.paid.v1', {
      review_id: randomUUID(),
      campaign_id: randomUUID(),
      judge_id: judge,
      amount: usd(20),
      transfer_id: randomUUID(),
      campaign_remaining: usd(0),
    });
    expect(fee).toMatchObject({ userId: judge, title: 'Review fee received', data: { reason: 'judge_fee' } });
    const referral = text('ledger.promotion.paid.v1', {
      user_id: user,
      kind: 'referral',
      source_id: randomUUID(),
      amount: usd(500),
      transfer_id: randomUUID(),
    });
    expect(referral.title).toBe('Referral reward received');
    const bonus = text('ledger.promotion.paid.v1', {
      user_id: user,
      kind: 'bonus',
      source_id: randomUUID(),
      amount: usd(100),
      transfer_id: randomUUID(),
    });
    expect(bonus.body).toBe('A bonus of 1.00 USD is in your balance.');
  });

  it('tells a honeypot review’s fee exactly as a real review’s fee, keyed by the transfer that paid the judge', () => {
    const [judge, review, campaign, funding, fee] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    const real = text('ledger.judge-fee.paid.v1', {
      review_id: review,
      campaign_id: campaign,
      judge_id: judge,
      amount: usd(1_999),
      transfer_id: fee,
      campaign_remaining: usd(0),
    });
    const honeypot = text('ledger.honeypot-fee.paid.v1', {
      review_id: review,
      campaign_id: campaign,
      judge_id: judge,
      amount: usd(1_999),
      transfer_ids: [funding, fee],
    });
    expect(honeypot).toEqual(real);
    expect(honeypot).toEqual({
      userId: judge,
      kind: 'money_received',
      title: 'Review fee received',
      body: '19.99 USD for your review is in your balance.',
      data: { reason: 'judge_fee', amount: usd(1_999), review_id: review },
      sourceKey: `money:${fee}`,
    });
  });

  it('follows a withdrawal through approval, processing, payment, failure and rejection', () => {
    const base = { withdrawal_id: withdrawal, user_id: user, amount: usd(5000) };
    const said = [
      text('payouts.withdrawal.approved.v1', { ...base, method: 'auto' }),
      text('payouts.withdrawal.processing.v1', { ...base, provider: 'manual' }),
      text('payouts.withdrawal.completed.v1', { ...base, provider: 'manual' }),
      text('payouts.withdrawal.failed.v1', { ...base, reason_code: 'PROVIDER_DOWN' }),
      text('payouts.withdrawal.rejected.v1', { ...base, reason_code: 'FRAUD_SUSPECTED' }),
    ];
    expect(said.map((d) => d.kind)).toEqual([
      'withdrawal_approved',
      'withdrawal_processing',
      'withdrawal_completed',
      'withdrawal_failed',
      'withdrawal_rejected',
    ]);
    expect(new Set(said.map((d) => d.sourceKey)).size).toBe(5);
    expect(said.every((d) => d.body.includes('50.00 USD'))).toBe(true);
    expect(said[3]!.body).toContain('(PROVIDER_DOWN)');
    expect(said[4]!.body).toContain('back in your available balance');
    expect(said[0]!.data).not.toHaveProperty('method');
    expect(eventTexts['payouts.withdrawal.requested.v1']).toBeUndefined();
    expect(eventTexts['payouts.withdrawal.cancelled.v1']).toBeUndefined();
  });

  it('tells a withdrawal on hold while the account is suspended, and the hold lifted, each change once', () => {
    const hold = {
      withdrawal_id: withdrawal,
      user_id: user,
      amount: usd(2500),
      reason_code: 'ACCOUNT_SUSPENDED',
    };
    const first = randomUUID();
    const on = withdrawalHoldText('on_hold', hold, first);
    expect(on).toMatchObject({
      userId: user,
      kind: 'withdrawal_on_hold',
      title: 'Withdrawal on hold',
      data: { withdrawal_id: withdrawal, amount: usd(2500), reason_code: 'ACCOUNT_SUSPENDED' },
      sourceKey: `withdrawal-on-hold:${first}`,
    });
    expect(on.body).toBe(
      'Your withdrawal of 25.00 USD is on hold while your account is suspended: it will not be approved or sent until your account is reinstated. The amount stays reserved for it.',
    );
    const lifted = withdrawalHoldText('hold_lifted', hold, randomUUID());
    expect(lifted).toMatchObject({ kind: 'withdrawal_hold_lifted', title: 'Withdrawal no longer on hold' });
    expect(lifted.body).toBe(
      'Your account was reinstated: your withdrawal of 25.00 USD is no longer on hold and goes ahead.',
    );
    // The same event again is the same cause; a later hold of the same withdrawal is another.
    expect(withdrawalHoldText('on_hold', hold, first).sourceKey).toBe(on.sourceKey);
    expect(withdrawalHoldText('on_hold', hold, randomUUID()).sourceKey).not.toBe(on.sourceKey);
    expect(lifted.sourceKey).not.toBe(on.sourceKey);
  });

  it('tells a hold for a reason it does not know by its code', () => {
    const hold = { withdrawal_id: withdrawal, user_id: user, amount: usd(700), reason_code: 'KYC_REVIEW' };
    expect(withdrawalHoldText('on_hold', hold, randomUUID()).body).toBe(
      'Your withdrawal of 7.00 USD is on hold (KYC_REVIEW): it will not be approved or sent until the hold is lifted. The amount stays reserved for it.',
    );
    expect(withdrawalHoldText('hold_lifted', hold, randomUUID()).body).toBe(
      'Your withdrawal of 7.00 USD is no longer on hold (KYC_REVIEW) and goes ahead.',
    );
    const draft = withdrawalHoldText('on_hold', hold, randomUUID());
    expect(`${draft.title} ${draft.body}`).not.toContain(user);
  });

  it('names the badge and its XP bonus', () => {
    const badge = randomUUID();
    const draft = text('engagement.badge.unlocked.v1', {
      user_id: user,
      badge_id: badge,
      code: 'first_steps',
      xp_bonus: 50,
    });
    expect(draft.body).toBe('You unlocked the badge "first_steps" and earned 50 bonus XP.');
    expect(draft.sourceKey).toBe(`badge:${badge}`);
  });

  it('says a level up, says a decrease plainly, and says nothing when nothing changed', () => {
    const event = randomUUID();
    expect(levelChangedText(user, 3, 2, event)).toMatchObject({
      title: 'Level up',
      body: 'You reached level 3.',
      data: { level: 3, previous_level: 2, direction: 'up' },
      sourceKey: `level:${event}`,
    });
    expect(levelChangedText(user, 2, 3, event)).toMatchObject({
      title: 'Level decreased',
      body: 'Your level went down from 3 to 2.',
      data: { direction: 'down' },
    });
    expect(levelChangedText(user, 4, 4, event)).toBeNull();
  });

  it('puts nothing personal in any text: ids stay in data, out of titles and bodies', () => {
    const drafts = [
      text('submissions.submission.approved.v1', { ...ref, reward: usd(1), xp_reward: 1 }),
      text('payouts.withdrawal.completed.v1', {
        withdrawal_id: withdrawal,
        user_id: user,
        amount: usd(1),
        provider: 'manual',
      }),
    ];
    for (const draft of drafts) {
      expect(`${draft.title} ${draft.body}`).not.toContain(user);
      expect(`${draft.title} ${draft.body}`).not.toContain('manual');
    }
  });
});
