import { type HttpApp, isUuid, limitParam, principalOf } from '@tessera/service-kit';
import { z } from 'zod';
import type { EngagementContext } from '../context.ts';
import { leaderboard } from './handle.ts';
import { metrics, periods } from './periods.ts';

const entry = z.object({
  rank: z.number().int().positive(),
  user_id: z.uuid(),
  level: z.number().int().positive(),
  value: z.number().int(),
});

const reply = z.object({
  period: z.enum(periods),
  metric: z.enum(metrics),
  /** The first day (UTC) of this week or month; null for all time. */
  period_start: z.iso.date().nullable(),
  top: z.array(entry),
  me: z.object({ rank: z.number().int().positive(), value: z.number().int() }).nullable(),
  around: z.array(entry),
});

/** GET /api/v1/leaderboards/:period: the top of a board and where the caller stands on it. */
export function leaderboardRoutes(app: HttpApp, { db, clock }: EngagementContext): void {
  app.get(
    '/api/v1/leaderboards/:period',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['leaderboards'],
        summary: 'The top of a leaderboard (this UTC week, this UTC month, all time) and your place on it',
        description:
          'Active contributors ranked by XP earned in the period (`metric=xp`, net of decay) or by approved ' +
          'submissions (`metric=approved`). Equal values share a rank (1, 2, 2, 4); the listing breaks ties by ' +
          'user id. `me` is null when you are not on the board (nothing earned in the period, or not a ' +
          'contributor); `around` is you with up to 2 entries each side.',
        security: [{ bearerAuth: [] }],
        params: z.strictObject({ period: z.enum(periods) }),
        querystring: z.strictObject({ metric: z.enum(metrics).default('xp'), limit: limitParam(100, 100) }),
        response: { 200: reply },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const person = principal.companyId === undefined && isUuid(principal.userId);
      const view = await leaderboard(db, {
        period: request.params.period,
        metric: request.query.metric,
        limit: request.query.limit,
        userId: person ? principal.userId.toLowerCase() : null,
        now: clock(),
      });
      return {
        period: view.period,
        metric: view.metric,
        period_start: view.periodStart,
        top: view.top,
        me: view.me,
        around: view.around,
      };
    },
  );
}
