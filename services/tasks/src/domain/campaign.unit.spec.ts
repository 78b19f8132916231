import { describe, expect, it } from 'vitest';
import type { CampaignStatus } from '../db/schema.ts';
import {
  CAMPAIGN_STATUSES,
  type CampaignCommand,
  type CampaignState,
  completionOf,
  hasEnded,
  refusalOf,
  refusalStatus,
  scheduleIssues,
} from './campaign.ts';

const now = new Date('2030-01-01T12:00:00Z');
const later = new Date('2030-02-01T00:00:00Z');
const earlier = new Date('2029-12-01T00:00:00Z');

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

  it('names why it refuses, with a status the API answers', () => {
    const cases: [CampaignStatus, CampaignCommand, string, number][] = [
      ['active', 'activate', 'CAMPAIGN_NOT_DRAFT', 409],
      ['funding', 'activate', 'CAMPAIGN_NOT_DRAFT', 409],
      ['draft', 'top-up', 'CAMPAIGN_NOT_RUNNING', 409],
      ['completed', 'top-up', 'CAMPAIGN_NOT_RUNNING', 409],
      ['draft', 'pause', 'CAMPAIGN_NOT_ACTIVE', 409],
      ['active', 'resume', 'CAMPAIGN_NOT_PAUSED', 409],
      ['funding', 'cancel', 'CAMPAIGN_FUNDING_IN_PROGRESS', 409],
      ['funding', 'complete', 'CAMPAIGN_FUNDING_IN_PROGRESS', 409],
      ['cancelled', 'complete', 'CAMPAIGN_CLOSED', 409],
      ['completed', 'edit', 'CAMPAIGN_CLOSED', 409],
      ['completed', 'edit-budget', 'CAMPAIGN_CLOSED', 409],
      ['active', 'edit-budget', 'CAMPAIGN_BUDGET_LOCKED', 409],
      ['funding', 'edit-budget', 'CAMPAIGN_BUDGET_LOCKED', 409],
      ['cancelled', 'invite', 'CAMPAIGN_CLOSED', 409],
    ];
    for (const [status, command, code, httpStatus] of cases) {
      const refusal = refusalOf(campaign(status), command, { now });
      expect(refusal?.code, `${command} from ${status}`).toBe(code);
      expect(refusalStatus[refusal!.code]).toBe(httpStatus);
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
    expect(refusalStatus.CAMPAIGN_ENDED).toBe(422);
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
    expect(refusalStatus.CURRENCY_MISMATCH).toBe(422);
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
