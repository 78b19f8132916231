import { currencyCode } from '@tessera/contracts';
import { type HttpApp, idParams, timestamp } from '@tessera/service-kit';
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
  total_earned: z.array(z.object({ amount: count, currency: currencyCode })),
});

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

/** GET /api/v1/users/:id/stats (anyone signed in) and GET /api/v1/me/progress (the caller's own). */
export function standingRoutes(app: HttpApp, { db, clock }: EngagementContext): void {
  app.get(
    '/api/v1/users/:id/stats',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "A user's public numbers: level, XP, tasks completed, accuracy, streak, trust, earnings",
        description:
          'Any signed-in caller may read them: leaderboards show the same numbers. A user engagement has ' +
          'heard nothing of answers the starting values (level 1, trust 5.0, no earnings), not 404, so ' +
          'the answer says nothing of whether an account exists. `total_earned` is per currency, in minor ' +
          "units, from the ledger's rewards, judge fees and promotions.",
        security,
        params: idParams,
        response: { 200: statsReply },
      },
    },
    async (request) => statsOf(db, request.params.id, clock()),
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
