import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money, reasonCode } from '../schemas.ts';

/** Engagement: rewards paid in money, from the platform's promotions account. */
export const engagementEvents = [
  defineEvent('engagement.bonus.awarded.v1', {
    description:
      'A user earned a money bonus (a streak, a mission, a badge); the ledger pays it from promotions.',
    data: z.object({ bonus_id: entityId, user_id: entityId, amount: money, reason_code: reasonCode }),
  }),
  defineEvent('engagement.referral.rewarded.v1', {
    description: 'A referral qualified; the ledger pays the referrer from promotions.',
    data: z.object({
      referral_id: entityId,
      referrer_id: entityId,
      referred_user_id: entityId,
      amount: money,
    }),
  }),
] as const;
