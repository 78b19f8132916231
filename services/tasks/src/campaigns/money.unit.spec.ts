import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APPEAL_NEWS_GRACE_MS,
  type AfterClaim,
  appealsOpen,
  availableToPromise,
  claimLeavesCampaignAsIs,
  type CampaignFacts,
  type CampaignMoney,
  decideAutomation,
  targetReached,
} from './money.ts';

const now = new Date('2030-01-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

const money = (values: Partial<CampaignMoney> = {}): CampaignMoney => ({
  funded: 10_000,
  spent: 0,
  returned: 0,
  reserved: 0,
  owed: 0,
  ...values,
});

const facts = (values: Partial<CampaignFacts> = {}): CampaignFacts => ({
  status: 'active',
  pause_reason: null,
  target_count: null,
  approved_count: 0,
  money: money(),
  close_event: null,
  close_event_sent: false,
  cheapest_open_reward: 100,
  appealable_until: null,
  ...values,
});

describe('availableToPromise', () => {
  it('is what was funded less what was spent, returned, reserved and owed', () => {
    expect(
      availableToPromise(money({ funded: 10_000, spent: 1_000, returned: 500, reserved: 300, owed: 200 })),
    ).toBe(8_000);
  });

  it('can go below zero (a fee spent after rewards were promised) and never hides it', () => {
    expect(availableToPromise(money({ funded: 100, reserved: 100, spent: 30 }))).toBe(-30);
  });

  it('counts a reward paid before its approval arrived only once (owed goes negative meanwhile)', () => {
    // reward.paid first: spent +50, owed -50; the approval later moves 50 from reserved to owed.
    const paidFirst = money({ funded: 1_000, reserved: 50, spent: 50, owed: -50 });
    expect(availableToPromise(paidFirst)).toBe(950);
    const thenApproved = money({ funded: 1_000, reserved: 0, spent: 50, owed: 0 });
    expect(availableToPromise(thenApproved)).toBe(950);
  });
});

describe('targetReached', () => {
  it('needs a target and at least that many approvals', () => {
    expect(targetReached({ target_count: null, approved_count: 1_000 })).toBe(false);
    expect(targetReached({ target_count: 10, approved_count: 9 })).toBe(false);
    expect(targetReached({ target_count: 10, approved_count: 10 })).toBe(true);
    expect(targetReached({ target_count: 10, approved_count: 11 })).toBe(true);
  });
});

describe('decideAutomation: an active campaign', () => {
  it('does nothing while it can pay its next reward and has not met its target', () => {
    expect(decideAutomation(facts(), now)).toEqual({ kind: 'none' });
  });

  it('keeps going when exactly the cheapest reward is left', () => {
    expect(
      decideAutomation(facts({ money: money({ funded: 100 }), cheapest_open_reward: 100 }), now),
    ).toEqual({
      kind: 'none',
    });
  });

  it('pauses for budget_exhausted when what is left cannot pay the cheapest open reward', () => {
    expect(
      decideAutomation(
        facts({ money: money({ funded: 1_000, spent: 950 }), cheapest_open_reward: 100 }),
        now,
      ),
    ).toEqual({ kind: 'pause', reason: 'budget_exhausted' });
    expect(
      decideAutomation(
        facts({ money: money({ funded: 1_000, reserved: 901 }), cheapest_open_reward: 100 }),
        now,
      ),
    ).toEqual({ kind: 'pause', reason: 'budget_exhausted' });
  });

  it('does not pause for money when no task could take a claim anyway', () => {
    expect(decideAutomation(facts({ money: money({ funded: 0 }), cheapest_open_reward: null }), now)).toEqual(
      {
        kind: 'none',
      },
    );
  });

  it('pauses for target_reached once approvals meet the target, before looking at money', () => {
    expect(
      decideAutomation(
        facts({ target_count: 5, approved_count: 5, money: money({ funded: 0 }), cheapest_open_reward: 100 }),
        now,
      ),
    ).toEqual({ kind: 'pause', reason: 'target_reached' });
  });
});

describe('decideAutomation: a paused campaign', () => {
  it('resumes after a budget pause once it can pay again (a top-up)', () => {
    expect(decideAutomation(facts({ status: 'paused', pause_reason: 'budget_exhausted' }), now)).toEqual({
      kind: 'resume',
    });
  });

  it('stays paused for budget while it still cannot pay', () => {
    expect(
      decideAutomation(
        facts({ status: 'paused', pause_reason: 'budget_exhausted', money: money({ funded: 50 }) }),
        now,
      ),
    ).toEqual({ kind: 'none' });
  });

  it('resumes after a target pause once the target is raised, and not before', () => {
    const paused = { status: 'paused', pause_reason: 'target_reached', approved_count: 5 } as const;
    expect(decideAutomation(facts({ ...paused, target_count: 5 }), now)).toEqual({ kind: 'none' });
    expect(decideAutomation(facts({ ...paused, target_count: 6 }), now)).toEqual({ kind: 'resume' });
    expect(decideAutomation(facts({ ...paused, target_count: null }), now)).toEqual({ kind: 'resume' });
  });

  it('does not resume while no task could take a claim', () => {
    expect(
      decideAutomation(
        facts({ status: 'paused', pause_reason: 'budget_exhausted', cheapest_open_reward: null }),
        now,
      ),
    ).toEqual({ kind: 'none' });
  });

  it('never resumes a campaign paused by hand', () => {
    expect(decideAutomation(facts({ status: 'paused', pause_reason: 'manual' }), now)).toEqual({
      kind: 'none',
    });
  });
});

describe('decideAutomation: other statuses', () => {
  it.each(['draft', 'funding', 'completed', 'cancelled'] as const)(
    'does nothing for a %s campaign',
    (status) => {
      expect(
        decideAutomation(
          facts({ status, money: money({ funded: 0 }), target_count: 1, approved_count: 1 }),
          now,
        ),
      ).toEqual({ kind: 'none' });
    },
  );
});

describe('decideAutomation: a closing campaign', () => {
  const closing = (values: Partial<CampaignFacts> = {}) =>
    facts({ status: 'cancelled', close_event: 'cancelled', cheapest_open_reward: null, ...values });

  it('announces its close once nothing is reserved or owed', () => {
    expect(decideAutomation(closing(), now)).toEqual({ kind: 'announce-close', event: 'cancelled' });
    expect(decideAutomation(closing({ status: 'completed', close_event: 'completed' }), now)).toEqual({
      kind: 'announce-close',
      event: 'completed',
    });
  });

  it('waits while a claim holds money or an approval is unpaid', () => {
    expect(decideAutomation(closing({ money: money({ reserved: 100 }) }), now)).toEqual({ kind: 'none' });
    expect(decideAutomation(closing({ money: money({ owed: 100 }) }), now)).toEqual({ kind: 'none' });
  });

  it('treats owed at or below zero as nothing owed', () => {
    expect(decideAutomation(closing({ money: money({ owed: -100 }) }), now)).toEqual({
      kind: 'announce-close',
      event: 'cancelled',
    });
  });

  it('announces only once', () => {
    expect(decideAutomation(closing({ close_event_sent: true }), now)).toEqual({ kind: 'none' });
  });

  it('waits while a rejection can still be appealed, up to the last moment of its window', () => {
    expect(decideAutomation(closing({ appealable_until: at(7 * 24 * 3_600_000) }), now)).toEqual({
      kind: 'none',
    });
    expect(decideAutomation(closing({ appealable_until: now }), now)).toEqual({ kind: 'none' });
    // An appeal filed at the window's last moment may still be on its way.
    expect(decideAutomation(closing({ appealable_until: at(-APPEAL_NEWS_GRACE_MS) }), now)).toEqual({
      kind: 'none',
    });
  });

  it('announces its close once the last appeal window and its grace have passed', () => {
    expect(decideAutomation(closing({ appealable_until: at(-APPEAL_NEWS_GRACE_MS - 1) }), now)).toEqual({
      kind: 'announce-close',
      event: 'cancelled',
    });
    expect(
      decideAutomation(
        closing({
          status: 'completed',
          close_event: 'completed',
          appealable_until: at(-APPEAL_NEWS_GRACE_MS - 1),
        }),
        now,
      ),
    ).toEqual({ kind: 'announce-close', event: 'completed' });
  });

  it('still waits for money held or owed once the windows have passed', () => {
    expect(decideAutomation(closing({ appealable_until: at(-1), money: money({ owed: 100 }) }), now)).toEqual(
      { kind: 'none' },
    );
  });

  it('neither pauses nor resumes once closing, whatever its money or target', () => {
    expect(
      decideAutomation(
        closing({
          money: money({ funded: 0, reserved: 50 }),
          cheapest_open_reward: 100,
          target_count: 1,
          approved_count: 1,
        }),
        now,
      ),
    ).toEqual({ kind: 'none' });
  });
});

describe('appealsOpen', () => {
  it('is open while a rejection not appealed yet is within its window (inclusive), closed without one', () => {
    expect(appealsOpen({ appealable_until: null }, now)).toBe(false);
    expect(appealsOpen({ appealable_until: at(1) }, now)).toBe(true);
    expect(appealsOpen({ appealable_until: now }, now)).toBe(true);
    expect(appealsOpen({ appealable_until: at(-APPEAL_NEWS_GRACE_MS) }, now)).toBe(true);
    expect(appealsOpen({ appealable_until: at(-APPEAL_NEWS_GRACE_MS - 1) }, now)).toBe(false);
  });
});

describe('claimLeavesCampaignAsIs: what a claim lets the campaign skip', () => {
  const after = (values: Partial<AfterClaim> = {}): AfterClaim => ({
    status: 'active',
    close_event: null,
    target_count: null,
    approved_count: 0,
    available: 1_000,
    task_open: true,
    task_hold: 100,
    ...values,
  });

  it('skips while the claimed task still has a slot the campaign can pay for', () => {
    expect(claimLeavesCampaignAsIs(after())).toBe(true);
    expect(claimLeavesCampaignAsIs(after({ available: 100 }))).toBe(true);
  });

  it('looks when the claimed task is full or closed: the cheapest open one may cost more', () => {
    expect(claimLeavesCampaignAsIs(after({ task_open: false }))).toBe(false);
  });

  it('looks when what is left cannot pay one more claim of the task', () => {
    expect(claimLeavesCampaignAsIs(after({ available: 99 }))).toBe(false);
  });

  it('looks when the target is met, a close is pending or the campaign is not active', () => {
    expect(claimLeavesCampaignAsIs(after({ target_count: 5, approved_count: 5 }))).toBe(false);
    expect(claimLeavesCampaignAsIs(after({ close_event: 'completed' }))).toBe(false);
    expect(claimLeavesCampaignAsIs(after({ status: 'paused' }))).toBe(false);
  });

  it('never skips a campaign the automation would pause, resume or close (any campaign, any cheapest task)', () => {
    // Small amounts, often none: the boundaries (exactly enough left, nothing reserved) come up.
    const amount = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 }));
    // Mostly active and not closing, with some budget left: the cases a claim could skip.
    const campaign = fc.record({
      status: fc.oneof(
        { weight: 4, arbitrary: fc.constant<CampaignFacts['status']>('active') },
        {
          weight: 1,
          arbitrary: fc.constantFrom<CampaignFacts['status']>('draft', 'paused', 'completed', 'cancelled'),
        },
      ),
      pause_reason: fc.constantFrom<CampaignFacts['pause_reason']>(
        null,
        'manual',
        'budget_exhausted',
        'target_reached',
      ),
      target_count: fc.option(fc.integer({ min: 0, max: 20 })),
      approved_count: fc.integer({ min: 0, max: 20 }),
      money: fc
        .record({
          left: fc.integer({ min: -20, max: 100 }),
          spent: amount,
          returned: amount,
          reserved: amount,
          owed: amount,
        })
        .map(({ left, ...taken }) => ({
          ...taken,
          funded: Math.max(0, left + taken.spent + taken.returned + taken.reserved + taken.owed),
        })),
      close_event: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom('completed' as const, 'cancelled' as const) },
      ),
      close_event_sent: fc.boolean(),
      appealable_until: fc.option(fc.integer({ min: -10, max: 10 }).map((hours) => at(hours * 3_600_000))),
    });
    // The claimed task, and how much less than it the cheapest open task holds (the claimed one,
    // when open, is among the open ones, so the cheapest never holds more); when it is full, the
    // cheapest open task is any other, or none.
    const claimed = fc.record({
      task_open: fc.boolean(),
      task_hold: fc.integer({ min: 0, max: 60 }),
      cheaper_by: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
      other_open: fc.option(fc.integer({ min: 0, max: 120 })),
    });
    fc.assert(
      fc.property(campaign, claimed, (c, task) => {
        const cheapest = task.task_open ? Math.max(0, task.task_hold - task.cheaper_by) : task.other_open;
        const facts: CampaignFacts = { ...c, cheapest_open_reward: cheapest };
        const skip = claimLeavesCampaignAsIs({
          status: c.status,
          close_event: c.close_event,
          target_count: c.target_count,
          approved_count: c.approved_count,
          available: availableToPromise(c.money),
          task_open: task.task_open,
          task_hold: task.task_hold,
        });
        if (skip) expect(decideAutomation(facts, now)).toEqual({ kind: 'none' });
      }),
      { numRuns: 2_000 },
    );
  });
});
