import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  CAMPAIGN_STATUSES,
  type CampaignCommand,
  type CampaignState,
  type CampaignStatus,
  type CommandContext,
  completionOf,
  decideCampaignCommand,
  decideSchedule,
  hasEnded,
  scheduleIssues,
} from './decide.ts';

const now = new Date('2030-01-01T12:00:00Z');
const later = new Date('2030-02-01T00:00:00Z');
const earlier = new Date('2029-12-01T00:00:00Z');

/** The refusal of `command`, or null when it is accepted. */
const refusalOf = (state: CampaignState, command: CampaignCommand, context: CommandContext) => {
  const decision = decideCampaignCommand(state, { ...context, command });
  return decision.ok ? null : decision.refusal;
};

const campaign = (status: CampaignStatus, values: Partial<CampaignState> = {}): CampaignState => ({
  status,
  pause_reason: status === 'paused' ? 'budget_exhausted' : null,
  end_at: null,
  currency: 'USD',
  ...values,
});

/** The statuses from which a command is accepted (everything else is refused). */
const allowedFrom = (command: CampaignCommand, context: { fundingPending?: boolean } = {}) =>
  CAMPAIGN_STATUSES.filter((status) => refusalOf(campaign(status), command, { now, ...context }) === null);

describe('which commands each status accepts', () => {
  it.each<[CampaignCommand, CampaignStatus[]]>([
    ['activate', ['draft']],
    ['top-up', ['active', 'paused']],
    ['pause', ['active', 'paused']],
    ['resume', ['paused']],
    ['cancel', ['draft', 'active', 'paused']],
    ['complete', ['draft', 'active', 'paused']],
    ['edit', ['draft', 'funding', 'active', 'paused']],
    ['edit-budget', ['draft']],
    ['invite', ['draft', 'funding', 'active', 'paused']],
  ])('%s is accepted from %j only', (command, statuses) => {
    expect(allowedFrom(command)).toEqual(statuses);
  });

  it('names why it refuses, as a conflict with the campaign state (409)', () => {
    const cases: [CampaignStatus, CampaignCommand, string][] = [
      ['active', 'activate', 'CAMPAIGN_NOT_DRAFT'],
      ['funding', 'activate', 'CAMPAIGN_NOT_DRAFT'],
      ['draft', 'top-up', 'CAMPAIGN_NOT_RUNNING'],
      ['completed', 'top-up', 'CAMPAIGN_NOT_RUNNING'],
      ['draft', 'pause', 'CAMPAIGN_NOT_ACTIVE'],
      ['active', 'resume', 'CAMPAIGN_NOT_PAUSED'],
      ['funding', 'cancel', 'CAMPAIGN_FUNDING_IN_PROGRESS'],
      ['funding', 'complete', 'CAMPAIGN_FUNDING_IN_PROGRESS'],
      ['cancelled', 'complete', 'CAMPAIGN_CLOSED'],
      ['completed', 'edit', 'CAMPAIGN_CLOSED'],
      ['completed', 'edit-budget', 'CAMPAIGN_CLOSED'],
      ['active', 'edit-budget', 'CAMPAIGN_BUDGET_LOCKED'],
      ['funding', 'edit-budget', 'CAMPAIGN_BUDGET_LOCKED'],
      ['cancelled', 'invite', 'CAMPAIGN_CLOSED'],
    ];
    for (const [status, command, code] of cases) {
      const refusal = refusalOf(campaign(status), command, { now });
      expect(refusal?.code, `${command} from ${status}`).toBe(code);
      expect(refusal!.kind).toBe('conflict');
      expect(refusal!.detail.length).toBeGreaterThan(10);
    }
  });
});

describe('pause', () => {
  it('pins a campaign the automation paused, but not one already paused by hand', () => {
    expect(refusalOf(campaign('paused', { pause_reason: 'target_reached' }), 'pause', { now })).toBeNull();
    expect(refusalOf(campaign('paused', { pause_reason: 'manual' }), 'pause', { now })?.code).toBe(
      'CAMPAIGN_NOT_ACTIVE',
    );
  });
});

describe('the end date', () => {
  it('refuses to activate, top up or resume an ended campaign (422)', () => {
    const ended = { end_at: earlier };
    expect(refusalOf(campaign('draft', ended), 'activate', { now })?.code).toBe('CAMPAIGN_ENDED');
    expect(refusalOf(campaign('active', ended), 'top-up', { now })?.code).toBe('CAMPAIGN_ENDED');
    expect(refusalOf(campaign('paused', ended), 'resume', { now })?.code).toBe('CAMPAIGN_ENDED');
    expect(refusalOf(campaign('draft', ended), 'activate', { now })?.kind).toBe('unprocessable');
  });

  it('counts the very moment of end_at as ended', () => {
    expect(hasEnded({ end_at: now }, now)).toBe(true);
    expect(hasEnded({ end_at: new Date(now.getTime() + 1) }, now)).toBe(false);
    expect(hasEnded({ end_at: null }, now)).toBe(false);
    expect(refusalOf(campaign('draft', { end_at: later }), 'activate', { now })).toBeNull();
  });

  it('still lets an ended campaign be completed or cancelled', () => {
    expect(refusalOf(campaign('active', { end_at: earlier }), 'complete', { now })).toBeNull();
    expect(refusalOf(campaign('paused', { end_at: earlier }), 'cancel', { now })).toBeNull();
  });
});

describe('closing while money is on its way', () => {
  it('refuses to cancel or complete while a funding request is unanswered', () => {
    expect(allowedFrom('cancel', { fundingPending: true })).toEqual([]);
    expect(refusalOf(campaign('active'), 'complete', { now, fundingPending: true })?.code).toBe(
      'CAMPAIGN_FUNDING_IN_PROGRESS',
    );
  });
});

describe('top-up currency', () => {
  it('must be the campaign currency', () => {
    expect(refusalOf(campaign('active'), 'top-up', { now, currency: 'EUR' })).toMatchObject({
      code: 'CURRENCY_MISMATCH',
    });
    expect(refusalOf(campaign('active'), 'top-up', { now, currency: 'EUR' })?.kind).toBe('unprocessable');
    expect(refusalOf(campaign('active'), 'top-up', { now, currency: 'USD' })).toBeNull();
  });
});

describe('scheduleIssues', () => {
  it('accepts an open schedule, or one that ends in the future after it starts', () => {
    expect(scheduleIssues({ start_at: null, end_at: null }, now)).toEqual([]);
    expect(scheduleIssues({ start_at: earlier, end_at: later }, now)).toEqual([]);
    expect(scheduleIssues({ start_at: later, end_at: null }, now)).toEqual([]);
  });

  it('refuses an end before (or at) the start', () => {
    expect(scheduleIssues({ start_at: later, end_at: later }, now)).toEqual([
      { path: 'end_at', message: 'must be after start_at' },
    ]);
    const start = new Date(later.getTime() + 1000);
    expect(scheduleIssues({ start_at: start, end_at: later }, now)).toEqual([
      { path: 'end_at', message: 'must be after start_at' },
    ]);
  });

  it('refuses a new end in the past, but not a stored one that has passed', () => {
    expect(scheduleIssues({ start_at: null, end_at: earlier }, now)).toEqual([
      { path: 'end_at', message: 'must be in the future' },
    ]);
    expect(scheduleIssues({ start_at: null, end_at: earlier }, now, false)).toEqual([]);
  });
});

describe('completionOf', () => {
  it('is approved / target, capped at 1, and null without a target', () => {
    expect(completionOf(0, 10)).toBe(0);
    expect(completionOf(3, 12)).toBe(0.25);
    expect(completionOf(15, 10)).toBe(1);
    expect(completionOf(5, null)).toBeNull();
  });
});

describe('decideCampaignCommand (given a campaign, when a command)', () => {
  const spec = decider(decideCampaignCommand);

  it('activates a draft whose end is ahead', () => {
    spec
      .given(campaign('draft', { end_at: later }))
      .when({ command: 'activate', now })
      .then(undefined);
  });

  it('refuses a top-up in another currency as unprocessable', () => {
    spec
      .given(campaign('paused'))
      .when({ command: 'top-up', now, currency: 'EUR' })
      .thenRefuses('CURRENCY_MISMATCH', 'unprocessable');
  });

  it("refuses a draft's budget in another currency (the ledger learned it at creation), not the same one", () => {
    spec
      .given(campaign('draft'))
      .when({ command: 'edit-budget', now, currency: 'EUR' })
      .thenRefuses('CURRENCY_LOCKED', 'unprocessable');
    spec.given(campaign('draft')).when({ command: 'edit-budget', now, currency: 'USD' }).then(undefined);
  });

  it('refuses to complete while money is on its way', () => {
    spec
      .given(campaign('active'))
      .when({ command: 'complete', now, fundingPending: true })
      .thenRefuses('CAMPAIGN_FUNDING_IN_PROGRESS', 'conflict');
  });
});

describe('decideSchedule', () => {
  const spec = decider(decideSchedule);

  it('keeps a valid schedule', () => {
    spec
      .given({ start_at: earlier, end_at: later })
      .when({ now, endChanged: true })
      .then({ start_at: earlier, end_at: later });
  });

  it('refuses a new end in the past as invalid input, naming the field', () => {
    const refused = spec
      .given({ start_at: null, end_at: earlier })
      .when({ now, endChanged: true })
      .thenRefuses('VALIDATION_FAILED', 'invalid');
    expect(refused.extensions).toEqual({
      errors: [{ path: 'body.end_at', message: 'must be in the future' }],
    });
  });
});
