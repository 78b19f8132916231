import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  canTransition,
  decideArchive,
  decideDeadline,
  decideTaskEdit,
  decideTaskInCampaign,
  isClosed,
  statusChange,
  type TaskStatus,
} from './decide.ts';

describe('status transitions', () => {
  const all: TaskStatus[] = ['active', 'paused', 'completed', 'archived'];

  it('active ⇄ paused; archived and completed are final', () => {
    expect(canTransition('active', 'paused')).toBe(true);
    expect(canTransition('paused', 'active')).toBe(true);
    expect(canTransition('active', 'archived')).toBe(true);
    expect(canTransition('paused', 'completed')).toBe(true);
    for (const to of all) {
      expect(canTransition('archived', to)).toBe(to === 'archived');
      expect(canTransition('completed', to)).toBe(to === 'completed');
    }
    expect(all.filter(isClosed)).toEqual(['completed', 'archived']);
  });

  it('names what a change announces', () => {
    expect(statusChange('active', 'paused')).toBe('paused');
    expect(statusChange('paused', 'active')).toBe('resumed');
    expect(statusChange('active', 'archived')).toBe('archived');
    expect(statusChange('active', 'active')).toBeNull();
  });
});

const campaign = { status: 'active', currency: 'USD', budget: 10_000, judgeFee: 0 };
const offer = (amount: number, currency = 'USD') => ({
  reward: { amount, currency },
  judges_required: 3,
  max_judges: 5,
});

describe('decideTaskInCampaign', () => {
  const spec = decider(decideTaskInCampaign);

  it('takes a task whose reward is in the campaign currency and within its budget', () => {
    for (const status of ['draft', 'funding', 'active', 'paused'])
      spec
        .given({ ...campaign, status })
        .when(offer(10_000))
        .then(undefined);
  });

  it('refuses tasks in a campaign that is over (conflict)', () => {
    for (const status of ['completed', 'cancelled'])
      spec
        .given({ ...campaign, status })
        .when(offer(100))
        .thenRefuses('CAMPAIGN_CLOSED', 'conflict');
  });

  it('refuses a reward in another currency, or above the whole budget (unprocessable)', () => {
    spec.given(campaign).when(offer(100, 'EUR')).thenRefuses('CURRENCY_MISMATCH', 'unprocessable');
    spec.given(campaign).when(offer(10_001)).thenRefuses('REWARD_EXCEEDS_BUDGET', 'unprocessable');
  });

  it("counts max_judges judge fees (the task's, else the campaign's) in what one claim holds", () => {
    // 9,501 + 5 × 100 > 10,000; 9,500 + 5 × 100 fits exactly.
    spec
      .given({ ...campaign, judgeFee: 100 })
      .when(offer(9_501))
      .thenRefuses('REWARD_EXCEEDS_BUDGET');
    spec
      .given({ ...campaign, judgeFee: 100 })
      .when(offer(9_500))
      .then(undefined);
    spec
      .given(campaign)
      .when({ ...offer(9_000), judge_fee: { amount: 201, currency: 'USD' } })
      .thenRefuses('REWARD_EXCEEDS_BUDGET');
    spec
      .given(campaign)
      .when({ ...offer(100), judge_fee: { amount: 5, currency: 'EUR' } })
      .thenRefuses('CURRENCY_MISMATCH');
  });

  it('refuses max_judges below judges_required', () => {
    spec
      .given(campaign)
      .when({ ...offer(100), judges_required: 3, max_judges: 2 })
      .thenRefuses('MAX_JUDGES_BELOW_REQUIRED', 'unprocessable');
  });
});

describe('decideDeadline', () => {
  const now = new Date('2030-01-01T12:00:00Z');
  const past = new Date('2029-12-31T00:00:00Z');
  const ahead = new Date('2030-01-02T00:00:00Z');
  const spec = decider(decideDeadline);

  it('accepts no deadline, or one ahead', () => {
    spec.given(null).when({ now }).then(null);
    spec.given(ahead).when({ now }).then(ahead);
  });

  it('refuses a new deadline that has passed, but keeps a stored one', () => {
    spec.given(past).when({ now }).thenRefuses('DEADLINE_PASSED', 'unprocessable');
    spec.given(now).when({ now }).thenRefuses('DEADLINE_PASSED', 'unprocessable');
    spec
      .given(past)
      .when({ now, stored: new Date(past) })
      .then(past);
  });
});

describe('decideTaskEdit', () => {
  const spec = decider(decideTaskEdit);
  const state = (status: TaskStatus, slots_taken = 0) => ({ task: { status, slots_taken }, campaign });

  it('pauses and resumes, saying what that announces', () => {
    spec
      .given(state('active'))
      .when({ ...offer(100), max_submissions: 5, status: 'paused' })
      .then({
        status: 'paused',
        change: 'paused',
      });
    spec
      .given(state('paused'))
      .when({ ...offer(100), max_submissions: 5, status: 'active' })
      .then({
        status: 'active',
        change: 'resumed',
      });
    spec
      .given(state('paused'))
      .when({ ...offer(100), max_submissions: 5 })
      .then({ status: 'paused', change: null });
  });

  it('refuses to change a closed task', () => {
    for (const status of ['completed', 'archived'] as const)
      spec
        .given(state(status))
        .when({ ...offer(100), max_submissions: 5 })
        .thenRefuses('TASK_CLOSED', 'conflict');
  });

  it('refuses max_submissions below the slots already taken', () => {
    spec
      .given(state('active', 4))
      .when({ ...offer(100), max_submissions: 3 })
      .thenRefuses('MAX_BELOW_TAKEN', 'conflict');
    spec
      .given(state('active', 4))
      .when({ ...offer(100), max_submissions: 4 })
      .then({ status: 'active', change: null });
  });

  it('applies the campaign rules too', () => {
    spec
      .given(state('active'))
      .when({ ...offer(100, 'EUR'), max_submissions: 5 })
      .thenRefuses('CURRENCY_MISMATCH');
  });
});

describe('decideArchive', () => {
  it('archives an open task, leaves an archived one, refuses a completed one', () => {
    expect(decideArchive({ status: 'active' })).toEqual({ ok: true, value: 'archive' });
    expect(decideArchive({ status: 'paused' })).toEqual({ ok: true, value: 'archive' });
    expect(decideArchive({ status: 'archived' })).toEqual({ ok: true, value: 'unchanged' });
    expect(decideArchive({ status: 'completed' })).toMatchObject({
      ok: false,
      refusal: { code: 'TASK_CLOSED' },
    });
  });
});
