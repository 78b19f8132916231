import { z } from 'zod';
import { defineEvent } from '../define-event.ts';
import { entityId, money, reasonCode } from '../schemas.ts';

/**
 * Engagement: rewards paid in money, from the platform's promotions account, and the standing
 * (level, trust score) that makes a contributor eligible for harder tasks.
 */
export const engagementEvents = [
  defineEvent('engagement.contributor.level-changed.v1', {
    description: "A contributor's level changed (levels start at 1).",
    data: z.object({ user_id: entityId, level: z.number().int().min(1).max(1000) }),
  }),
  defineEvent('engagement.contributor.trust-changed.v1', {
    description: "A contributor's trust score changed (0 to 10, one decimal; it starts at 5.0).",
    data: z.object({ user_id: entityId, trust_score: z.number().min(0).max(10) }),
  }),
  defineEvent('engagement.badge.unlocked.v1', {
    description:
      'A user unlocked a badge (once per badge); its XP bonus is already counted, and a money bonus follows as engagement.bonus.awarded.v1.',
    data: z.object({
      user_id: entityId,
      badge_id: entityId,
      code: z.string().regex(/^[a-z0-9_]{2,40}$/),
      xp_bonus: z.number().int().nonnegative().max(1_000_000),
    }),
  }),
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
