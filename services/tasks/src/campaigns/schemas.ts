import {
  type Clock,
  cursorParam,
  limitParam,
  moneySchema,
  positiveMoney,
  safeText,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import { z } from 'zod';
import { CAMPAIGN_STATUSES, PAUSE_REASONS, scheduleIssues } from './decide.ts';

export const bearer = [{ bearerAuth: [] }];
export const tags = ['campaigns'];

export const campaignName = safeText(200).min(1);
export const campaignDescription = safeText(5000, { multiline: true });

export const targetCount = z.number().int().positive().max(100_000_000);

const toDate = (value: string | null | undefined) => (value ? new Date(value) : null);

/** A new campaign's body; its schedule is checked against the service's clock (decide.ts). */
export function createCampaignBody(clock: Clock) {
  return z
    .strictObject({
      company_id: uuidParam,
      name: campaignName,
      description: campaignDescription.default(''),
      budget: positiveMoney,
      target_count: targetCount.nullable().optional(),
      start_at: timestamp.nullable().optional(),
      end_at: timestamp.nullable().optional(),
      is_private: z.boolean().default(false),
      /** What each counted review earns its judge, for tasks that do not set their own; absent: 0. */
      judge_fee: moneySchema.optional(),
    })
    .superRefine((body, ctx) => {
      if (body.judge_fee && body.judge_fee.currency !== body.budget.currency)
        ctx.addIssue({ code: 'custom', path: ['judge_fee'], message: "must be in the budget's currency" });
      const schedule = { start_at: toDate(body.start_at), end_at: toDate(body.end_at) };
      for (const issue of scheduleIssues(schedule, clock()))
        ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
    });
}

export const patchCampaignBody = z
  .strictObject({
    name: campaignName.optional(),
    description: campaignDescription.optional(),
    budget: positiveMoney.optional(),
    target_count: targetCount.nullable().optional(),
    start_at: timestamp.nullable().optional(),
    end_at: timestamp.nullable().optional(),
    is_private: z.boolean().optional(),
    /** Applies to tasks published or changed from now on; claims already made keep theirs. */
    judge_fee: moneySchema.optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    error: 'give at least one field to change',
  });

export const listCampaignsQuery = z.strictObject({
  company_id: uuidParam.optional(),
  status: z.enum(CAMPAIGN_STATUSES).optional(),
  cursor: cursorParam.optional(),
  limit: limitParam(20, 100),
});

export const pageQuery = z.strictObject({
  cursor: cursorParam.optional(),
  limit: limitParam(50, 200),
});

export const topUpBody = z.strictObject({ amount: positiveMoney });

export const invitationsBody = z.strictObject({
  user_ids: z.array(uuidParam).min(1).max(1000),
});

export const campaignSchema = z.object({
  id: z.string(),
  company_id: z.string(),
  name: z.string(),
  description: z.string(),
  budget: moneySchema,
  target_count: z.number().int().nullable(),
  start_at: z.string().nullable(),
  end_at: z.string().nullable(),
  is_private: z.boolean(),
  judge_fee: z.object({ amount: z.number().int(), currency: z.string() }),
  status: z.enum(CAMPAIGN_STATUSES),
  pause_reason: z.enum(PAUSE_REASONS).nullable(),
  last_funding_error: z.object({ code: z.string(), detail: z.string(), at: z.string() }).nullable(),
  funded: moneySchema,
  spent: moneySchema,
  remaining: moneySchema,
  available: moneySchema,
  approved_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const campaignResponse = z.object({ campaign: campaignSchema });

export const campaignListResponse = z.object({
  campaigns: z.array(campaignSchema),
  next_cursor: z.string().nullable(),
});

export const statsResponse = z.object({
  campaign_id: z.string(),
  received: z.number().int(),
  approved: z.number().int(),
  rejected: z.number().int(),
  pending_review: z.number().int(),
  spent: moneySchema,
  reserved: moneySchema,
  owed: moneySchema,
  remaining: moneySchema,
  completion: z.number().min(0).max(1).nullable(),
  tasks: z.number().int(),
});

export const invitationListResponse = z.object({
  invitations: z.array(z.object({ user_id: z.string(), created_at: z.string() })),
  next_cursor: z.string().nullable(),
});
