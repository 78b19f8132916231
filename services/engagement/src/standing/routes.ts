import { currencyCode } from '@tessera/contracts';
import { type HttpApp, idParams, isUuid, type Principal, principalOf, timestamp } from '@tessera/service-kit';
import { z } from 'zod';
import type { EngagementContext } from '../context.ts';
import { personOf } from '../users/index.ts';
import { progressOf, statsOf } from './progress.ts';

const tags = ['engagement'];
const security = [{ bearerAuth: [] }];

const level = z.number().int().min(1);
const count = z.number().int().nonnegative();
const trustScore = z.number().min(0).max(10).describe('0 to 10, one decimal; everyone starts at 5.0');

const statsReply = z.object({
  user_id: z.uuid(),
  level,
  xp: count,
  tasks_completed: count.describe('Approved submissions'),
  reviews_done: count.describe('Reviews that counted toward a verdict'),
  accuracy: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .describe('Approved ÷ (approved + rejected by judges); null before any verdict'),
  streak_days: count.describe('Consecutive active days up to today or yesterday, in their time zone'),
  trust_score: trustScore,
  total_earned: z
    .array(z.object({ amount: count, currency: currencyCode }))
    .optional()
    .describe(
      'Only to the user themself and to admins: absent for anyone else (another user, an API key). ' +
        "Per currency, in minor units, from the ledger's rewards, judge fees and promotions.",
    ),
});

/**
 * Whether `principal` may see `userId`'s earnings: the user themself (a person's token, not an API
 * key's, whose `sub` is the key's id) or an admin. Anyone else reads only the public numbers that
 * the leaderboards show too: which user ids those list is no secret, their money is.
 */
export function seesEarningsOf(principal: Principal, userId: string): boolean {
  if (principal.companyId !== undefined || !isUuid(principal.userId)) return false;
  return principal.role === 'admin' || principal.userId.toLowerCase() === userId.toLowerCase();
}

const progressReply = z.object({
  level,
  xp: count,
  xp_for_next: count.nullable().describe('Cumulative XP the next level needs (null at the top level)'),
  xp_to_next: count.nullable(),
  streak_days: count,
  streak_multiplier: z.number().min(1).max(2),
  trust_score: trustScore,
  time_zone: z.string(),
  badges: z.array(
    z.object({ code: z.string(), name: z.string(), description: z.string(), unlocked_at: timestamp }),
  ),
});

/** GET /api/v1/users/:id/stats (anyone signed in; earnings to the user and admins) and GET /api/v1/me/progress (the caller's own). */
export function standingRoutes(app: HttpApp, { db, clock }: EngagementContext): void {
  app.get(
    '/api/v1/users/:id/stats',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          "A user's public numbers: level, XP, tasks completed, accuracy, streak, trust (earnings to themself and admins)",
        description:
          'Any signed-in caller may read the public numbers (users and API keys alike): leaderboards show ' +
          'the same. A user engagement has heard nothing of answers the starting values (level 1, trust ' +
          '5.0, no earnings), not 404, so the answer says nothing of whether an account exists. ' +
          "`total_earned` (per currency, in minor units, from the ledger's rewards, judge fees and " +
          'promotions) is answered only to the user themself and to admins; anyone else, API keys ' +
          'included, gets the answer without it.',
        security,
        params: idParams,
        response: { 200: statsReply },
      },
    },
    async (request) =>
      statsOf(db, request.params.id, clock(), {
        withEarnings: seesEarningsOf(principalOf(request), request.params.id),
      }),
  );

  app.get(
    '/api/v1/me/progress',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Your level and the XP to the next, your streak and its XP multiplier, trust and badges',
        description:
          'Level n takes ⌈100·(n−1)^1.5⌉ cumulative XP. The streak counts consecutive days with a ' +
          'submission or a counted review in your time zone (PUT /api/v1/me/time-zone); approvals earn ' +
          'their XP × the multiplier (1.0, +0.1 a day from the second, at most 2.0). 403 for API keys.',
        security,
        response: { 200: progressReply },
      },
    },
    async (request) => progressOf(db, personOf(request), clock()),
  );
}
