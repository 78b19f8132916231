import { currencyCode } from '@tessera/contracts';
import { z } from 'zod';
import { CAMPAIGN_STATUSES } from '../domain/campaign.ts';
import { cursorParam, limitParam } from './cursor.ts';

export const bearer = [{ bearerAuth: [] }];
export const tags = ['campaigns'];

/**
 * Text as a person writes it: no C0/C1 control characters and no invisible or reordering marks
 * (zero-width, bidi overrides, BOM). A multi-line text may keep line breaks and tabs.
 */
function oddCharacter(value: string, multiline: boolean): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (multiline && (code === 0x09 || code === 0x0a || code === 0x0d)) continue;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
    if ((code >= 0x200b && code <= 0x200f) || (code >= 0x202a && code <= 0x202e)) return true;
    if ((code >= 0x2066 && code <= 0x2069) || code === 0xfeff) return true;
  }
  return false;
}

export const campaignName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((value) => !oddCharacter(value, false), {
    error: 'must not contain control or invisible characters',
  });

export const campaignDescription = z
  .string()
  .trim()
  .max(5000)
  .refine((value) => !oddCharacter(value, true), {
    error: 'must not contain control or invisible characters',
  });

/** Money a client asks for: a positive integer of minor units and an ISO 4217 code; never a float. */
export const positiveMoney = z.strictObject({
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

/** Money as the API answers it. */
export const moneySchema = z.object({ amount: z.number().int(), currency: z.string() });

export const timestamp = z.iso.datetime({ offset: true });

export const targetCount = z.number().int().positive().max(100_000_000);

/** A path id: a UUID, lower-cased so that one entity has one spelling. */
export const uuidParam = z.uuid().transform((id) => id.toLowerCase());
export const idParams = z.strictObject({ id: uuidParam });

export const idempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 visible ASCII characters')
    .optional(),
});

export const createCampaignBody = z
  .strictObject({
    company_id: uuidParam,
    name: campaignName,
    description: campaignDescription.default(''),
    budget: positiveMoney,
    target_count: targetCount.nullable().optional(),
    start_at: timestamp.nullable().optional(),
    end_at: timestamp.nullable().optional(),
    is_private: z.boolean().default(false),
  })
  .superRefine((body, ctx) => {
    if (body.start_at && body.end_at && Date.parse(body.end_at) <= Date.parse(body.start_at))
      ctx.addIssue({ code: 'custom', path: ['end_at'], message: 'must be after start_at' });
    if (body.end_at && Date.parse(body.end_at) <= Date.now())
      ctx.addIssue({ code: 'custom', path: ['end_at'], message: 'must be in the future' });
  });

export const patchCampaignBody = z
  .strictObject({
    name: campaignName.optional(),
    description: campaignDescription.optional(),
    budget: positiveMoney.optional(),
    target_count: targetCount.nullable().optional(),
    start_at: timestamp.nullable().optional(),
    end_at: timestamp.nullable().optional(),
    is_private: z.boolean().optional(),
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
  status: z.enum(CAMPAIGN_STATUSES),
  pause_reason: z.enum(['manual', 'budget_exhausted', 'target_reached']).nullable(),
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
