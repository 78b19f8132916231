import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money } from '../schemas.ts';

/**
 * Tasks: campaigns and their money-relevant lifecycle. The rest of the family (tasks, assignments,
 * pauses) is added by the tasks service issue.
 */
export const tasksEvents = [
  defineEvent('tasks.campaign.funding-requested.v1', {
    description:
      "A company asked to activate a campaign: the ledger moves the budget (plus the platform fee) from the company's credits into the campaign's budget, and answers funded or funding-rejected. Each request is its own attempt, identified by the event id.",
    data: z.object({ campaign_id: entityId, company_id: entityId, budget: money }),
  }),
  defineEvent('tasks.campaign.completed.v1', {
    description: 'A campaign ended (end date or target reached); the ledger returns its remaining budget.',
    data: z.object({ campaign_id: entityId, company_id: entityId }),
  }),
  defineEvent('tasks.campaign.cancelled.v1', {
    description: 'A campaign was cancelled; the ledger returns its remaining budget.',
    data: z.object({ campaign_id: entityId, company_id: entityId }),
  }),
] as const;
