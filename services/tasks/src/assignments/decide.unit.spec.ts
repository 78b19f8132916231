import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { defaultStanding } from '../eligibility/index.ts';
import {
  APPEAL_WINDOW_MS,
  appealWindowEnd,
  type ClaimState,
  type ClaimTarget,
  confirmClaim,
  decideAppeal,
  decideClaim,
  decideEnd,
  decideReservation,
  FEE_NEWS_GRACE_MS,
  feeNewsDeadline,
  type ReserveOutcome,
} from './decide.ts';

const now = new Date('2030-01-01T12:00:00.000Z');
const hour = 3_600_000;
const at = (offset: number) => new Date(now.getTime() + offset);

const target = (
  task: Partial<ClaimTarget['task']> = {},
  campaign: Partial<ClaimTarget['campaign']> = {},
): ClaimTarget => ({
  task: {
    status: 'active',
    deadline: null,
    reward: { amount: 250, currency: 'USD' },
    xp_reward: 15,
    judge_fee: 0,
    max_judges: 5,
    claim_ttl_seconds: 600,
    slots_taken: 3,
    max_submissions: 10,
    requirements: {
      min_level: 1,
      min_trust_score: 0,
      required_languages: [],
      regions: [],
      is_private: false,
    },
    ...task,
  },
  campaign: {
    status: 'active',
    start_at: null,
    end_at: null,
    available: 10_000,
    target_count: null,
    quota_taken: 0,
    ...campaign,
  },
});

const state = (values: Partial<ClaimState> = {}): ClaimState => ({
  target: target(),
  standing: defaultStanding,
  invited: false,
  holdsClaim: false,
  ...values,
});

describe('decideClaim (given the task, its campaign and the caller, when they claim)', () => {
  const spec = decider(decideClaim);

  it('reserves the reward as it is now', () => {
    spec.given(state()).when({ now }).then({ reward: 250, judgeFee: 0, maxJudges: 5, hold: 250 });
  });

  it('refuses a claim on a full task', () => {
    spec
      .given(state({ target: target({ slots_taken: 10, max_submissions: 10 }) }))
      .when({ now })
      .thenRefuses('TASK_FULL', 'conflict');
  });

  it('refuses when the campaign cannot promise the reward, and takes exactly what is left', () => {
    spec
      .given(state({ target: target({}, { available: 249 }) }))
      .when({ now })
      .thenRefuses('CAMPAIGN_BUDGET_EXHAUSTED', 'conflict');
    spec
      .given(state({ target: target({}, { available: 250 }) }))
      .when({ now })
      .then({ reward: 250, judgeFee: 0, maxJudges: 5, hold: 250 });
  });

  it('holds the reward and max_judges judge fees, and refuses when the campaign cannot promise both', () => {
    const judged = (available: number) =>
      state({ target: target({ judge_fee: 10, max_judges: 4 }, { available }) });
    spec.given(judged(290)).when({ now }).then({ reward: 250, judgeFee: 10, maxJudges: 4, hold: 290 });
    spec.given(judged(289)).when({ now }).thenRefuses('CAMPAIGN_BUDGET_EXHAUSTED', 'conflict');
  });

  it('refuses once the campaign has as many claims and submissions as its target', () => {
    spec
      .given(state({ target: target({}, { target_count: 5, quota_taken: 5 }) }))
      .when({ now })
      .thenRefuses('CAMPAIGN_QUOTA_REACHED', 'conflict');
  });

  it('refuses an ineligible caller with every reason (forbidden)', () => {
    const refused = spec
      .given(
        state({
          standing: { ...defaultStanding, level: 1, trust_score: 2 },
          target: target({
            requirements: {
              min_level: 3,
              min_trust_score: 5,
              required_languages: ['fr'],
              regions: ['NG'],
              is_private: true,
            },
          }),
        }),
      )
      .when({ now })
      .thenRefuses('TASK_NOT_ELIGIBLE', 'forbidden');
    expect(refused.extensions).toEqual({
      reasons: ['LEVEL_TOO_LOW', 'TRUST_TOO_LOW', 'LANGUAGE_MISMATCH', 'REGION_MISMATCH', 'NOT_INVITED'],
    });
    expect(refused.detail).toContain('your level is below the minimum');
  });

  it('lets an invited contributor claim a private campaign’s task', () => {
    const requirements = { ...target().task.requirements, is_private: true };
    spec
      .given(state({ target: target({ requirements }), invited: true }))
      .when({ now })
      .then({ reward: 250, judgeFee: 0, maxJudges: 5, hold: 250 });
  });

  it.each<[string, ClaimTarget, string]>([
    ['a paused task', target({ status: 'paused' }), 'The task is paused.'],
    ['a passed deadline', target({ deadline: now }), 'The task’s deadline has passed.'],
    ['a paused campaign', target({}, { status: 'paused' }), 'The task’s campaign is paused.'],
    [
      'a campaign not started',
      target({}, { start_at: at(hour) }),
      'The task’s campaign has not started yet.',
    ],
    ['an ended campaign', target({}, { end_at: now }), 'The task’s campaign has ended.'],
  ])('refuses %s as not available', (_label, given, why) => {
    const refused = spec
      .given(state({ target: given }))
      .when({ now })
      .thenRefuses('TASK_NOT_AVAILABLE', 'conflict');
    expect(refused.detail).toBe(why);
  });

  it('refuses a second claim by the same contributor', () => {
    spec
      .given(state({ holdsClaim: true }))
      .when({ now })
      .thenRefuses('ALREADY_CLAIMED', 'conflict');
  });

  it('checks in order: eligibility, availability, the caller’s own claim, quota, budget, slots', () => {
    const everything = state({
      standing: { ...defaultStanding, status: 'suspended' },
      holdsClaim: true,
      target: target(
        { status: 'paused', slots_taken: 10 },
        { available: 0, target_count: 1, quota_taken: 1 },
      ),
    });
    spec.given(everything).when({ now }).thenRefuses('TASK_NOT_ELIGIBLE');
    spec
      .given({ ...everything, standing: defaultStanding })
      .when({ now })
      .thenRefuses('TASK_NOT_AVAILABLE');
    const open = target({ slots_taken: 10 }, { available: 0, target_count: 1, quota_taken: 1 });
    spec
      .given({ ...everything, standing: defaultStanding, target: open })
      .when({ now })
      .thenRefuses('ALREADY_CLAIMED');
    spec
      .given(state({ target: open }))
      .when({ now })
      .thenRefuses('CAMPAIGN_QUOTA_REACHED');
    const quotaLeft = target({ slots_taken: 10 }, { available: 0 });
    spec
      .given(state({ target: quotaLeft }))
      .when({ now })
      .thenRefuses('CAMPAIGN_BUDGET_EXHAUSTED');
  });
});

describe('decideReservation (when the database refused what another claim took first)', () => {
  it.each<[ReserveOutcome, string]>([
    ['task_full', 'TASK_FULL'],
    ['budget_exhausted', 'CAMPAIGN_BUDGET_EXHAUSTED'],
    ['quota_reached', 'CAMPAIGN_QUOTA_REACHED'],
    ['campaign_not_active', 'TASK_NOT_AVAILABLE'],
  ])('%s is refused as %s', (outcome, code) => {
    const decision = decideReservation(outcome);
    expect(decision).toMatchObject({ ok: false, refusal: { code, kind: 'conflict' } });
  });

  it('reserved goes on', () => {
    expect(decideReservation('reserved')).toEqual({ ok: true, value: undefined });
  });
});

describe('confirmClaim (under the locks the reservation took)', () => {
  const spec = decider(confirmClaim);
  const reserved = { reward: 250, judgeFee: 0, maxJudges: 5, hold: 250 };
  const locked = (values: Partial<ClaimState> = {}) => {
    const { holdsClaim: _, ...rest } = state(values);
    return rest;
  };

  it('fixes the reward the reservation held, the XP and the expiry', () => {
    spec
      .given(locked({ target: target({ reward: { amount: 999, currency: 'USD' } }) }))
      .when({ now, reserved })
      .then({
        reward: { amount: 250, currency: 'USD' },
        xp_reward: 15,
        judge_fee: { amount: 0, currency: 'USD' },
        max_judges: 5,
        fee_hold: 0,
        claimed_at: now,
        expires_at: at(600_000),
      });
  });

  it('refuses a task that stopped taking claims meanwhile', () => {
    spec
      .given(locked({ target: target({}, { status: 'completed' }) }))
      .when({ now, reserved })
      .thenRefuses('TASK_NOT_AVAILABLE', 'conflict');
  });

  it('refuses, as decideClaim does, a contributor no longer eligible on what the locked rows say', () => {
    const raised = target({
      requirements: { ...target().task.requirements, min_level: 5, is_private: true },
    });
    spec
      .given(locked({ target: raised, standing: { ...defaultStanding, status: 'suspended' } }))
      .when({ now, reserved })
      .thenRefuses('TASK_NOT_ELIGIBLE', 'forbidden');
    expect(confirmClaim(locked({ target: raised }), { now, reserved })).toEqual(
      decideClaim(state({ target: raised }), { now }),
    );
    spec
      .given(locked({ target: raised, standing: { ...defaultStanding, level: 5 }, invited: true }))
      .when({ now, reserved })
      .thenMatches((terms) => expect(terms.claimed_at).toEqual(now));
  });

  it('checks eligibility before availability, as decideClaim does', () => {
    spec
      .given(
        locked({
          target: target({}, { status: 'paused' }),
          standing: { ...defaultStanding, status: 'erased' },
        }),
      )
      .when({ now, reserved })
      .thenRefuses('TASK_NOT_ELIGIBLE', 'forbidden');
  });
});

describe('decideEnd (ending a claim: released, expired or rejected)', () => {
  const spec = decider(decideEnd);
  const open = { status: 'active' as const, ended_at: null };

  it('releases an open claim now, freeing what it held and announcing it', () => {
    spec
      .given(open)
      .when({ to: 'released', at: now })
      .then({
        from: 'active',
        set: { status: 'released', ended_at: now, settled_at: now },
        frees: { kind: 'freed' },
        announce: { type: 'released' },
      });
  });

  it('expires an open claim, saying why', () => {
    spec
      .given(open)
      .when({ to: 'expired', reason: 'account_not_active', at: now })
      .then({
        from: 'active',
        set: { status: 'expired', ended_at: now, settled_at: now },
        frees: { kind: 'freed' },
        announce: { type: 'expired', reason: 'account_not_active' },
      });
  });

  it('ends a submitted claim whose work was rejected, keeping when the work was handed in, its fee hold waiting for the fees', () => {
    const handedIn = at(-hour);
    spec
      .given({ status: 'submitted', ended_at: handedIn })
      .when({
        to: 'rejected',
        appealableUntil: at(7 * 24 * hour),
        feesAwaitedUntil: feeNewsDeadline(now),
        at: now,
      })
      .then({
        from: 'submitted',
        set: {
          status: 'rejected',
          ended_at: handedIn,
          settled_at: now,
          appealable_until: at(7 * 24 * hour),
        },
        frees: { kind: 'rejected', feesAwaitedUntil: at(FEE_NEWS_GRACE_MS) },
        announce: null,
      });
  });

  it('refuses to release or expire a claim that is no longer open', () => {
    for (const status of ['submitted', 'approved', 'rejected', 'released', 'expired'] as const) {
      spec
        .given({ status, ended_at: now })
        .when({ to: 'released', at: now })
        .thenRefuses('ASSIGNMENT_NOT_ACTIVE', 'conflict');
      spec
        .given({ status, ended_at: now })
        .when({ to: 'expired', reason: 'timeout', at: now })
        .thenRefuses('ASSIGNMENT_NOT_ACTIVE', 'conflict');
    }
  });

  it('refuses to reject work that was not submitted', () => {
    spec
      .given(open)
      .when({ to: 'rejected', appealableUntil: at(7 * 24 * hour), feesAwaitedUntil: now, at: now })
      .thenRefuses('ASSIGNMENT_NOT_SUBMITTED', 'conflict');
  });
});

describe('decideAppeal (an appeal is held once, only while undecided, in whatever order its events come)', () => {
  const rejected = (appeal_state: 'none' | 'held' | 'decided') => ({
    status: 'rejected' as const,
    appeal_state,
  });

  it('holds the reward of a rejection once when the appeal is filed, and frees it when upheld', () => {
    expect(decideAppeal(rejected('none'), 'filed')).toEqual({ kind: 'appeal-held' });
    expect(decideAppeal(rejected('held'), 'filed')).toBeNull();
    expect(decideAppeal(rejected('held'), 'upheld')).toEqual({ kind: 'appeal-released' });
    // Overturned: the approval that comes with it pays what is held (settle.ts overturn).
    expect(decideAppeal(rejected('held'), 'overturned')).toBeNull();
  });

  it('marks a decision seen before the filing decided, so the filing holds nothing', () => {
    expect(decideAppeal(rejected('none'), 'upheld')).toEqual({ kind: 'appeal-decided' });
    expect(decideAppeal(rejected('none'), 'overturned')).toEqual({ kind: 'appeal-decided' });
    expect(decideAppeal(rejected('decided'), 'filed')).toBeNull();
    expect(decideAppeal(rejected('decided'), 'upheld')).toBeNull();
  });

  it('holds nothing for work that is not rejected', () => {
    for (const status of ['active', 'submitted', 'approved', 'released', 'expired'] as const) {
      expect(decideAppeal({ status, appeal_state: 'none' }, 'filed'), status).toBeNull();
    }
  });
});

describe('appealWindowEnd (until when a rejection can be appealed)', () => {
  it('is what submissions says', () => {
    expect(appealWindowEnd(at(3 * hour), now)).toEqual(at(3 * hour));
  });

  it('is 7 days after the rejection for a producer that predates appealable_until', () => {
    expect(appealWindowEnd(undefined, now)).toEqual(at(7 * 24 * hour));
    expect(APPEAL_WINDOW_MS).toBe(7 * 24 * hour);
  });
});
