import {
  cursorParam,
  type HttpApp,
  limitParam,
  moneySchema,
  paginate,
  principalOf,
  refuse,
  timestamp,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { EngagementContext } from '../context.ts';
import { personOf } from '../users/index.ts';
import { rulesOf } from './rules.ts';
import { ensureCode } from './handle.ts';
import { referralsBy } from './repository.ts';

const tags = ['referrals'];
const security = [{ bearerAuth: [] }];

const referralReply = z.object({
  /** Share it: a signup that carries it makes you its referrer. */
  code: z.string(),
  /** Whom you referred is never shown: only how each referral stands. */
  referrals: z.array(
    z.object({
      level: z.union([z.literal(1), z.literal(2)]),
      status: z.enum(['pending', 'qualified', 'rejected']),
      reason_code: z.string().nullable(),
      approvals: z.number().int().nonnegative(),
      required: z.number().int().positive(),
      created_at: timestamp,
      qualified_at: timestamp.nullable(),
    }),
  ),
  next_cursor: z.string().nullable(),
  /** What a qualified (level 1) referral pays you. */
  reward: moneySchema,
});

/** GET /api/v1/me/referral: the caller's code, how their referrals stand, and what one pays. */
export function referralRoutes(app: HttpApp, { db, clock, config }: EngagementContext): void {
  const rules = rulesOf(config);
  app.get(
    '/api/v1/me/referral',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Your referral code and your referrals (newest first); company users have none',
        description:
          `A referral qualifies when the person you referred has ${rules.qualifyingApprovals} submissions approved; ` +
          'then you are paid `reward` once. A signup with your own code is rejected (SELF_REFERRAL).',
        security,
        querystring: z.strictObject({ cursor: cursorParam.optional(), limit: limitParam() }),
        response: { 200: referralReply },
      },
    },
    async (request) => {
      const userId = personOf(request);
      if (principalOf(request).role === 'company') {
        throw refuse.forbidden(
          'Company users neither refer nor are referred.',
          'REFERRALS_NOT_FOR_COMPANIES',
        );
      }
      const { cursor, limit } = request.query;
      // A user who registered before engagement kept codes gets theirs on first look.
      const code = await db.transaction().execute((trx) => ensureCode(trx, userId, clock()));
      const rows = await referralsBy(db, userId, { ...(cursor ? { after: cursor } : {}), limit: limit + 1 });
      const { page, next } = paginate(rows, limit);
      return {
        code,
        referrals: page.map((referral) => ({
          level: referral.level,
          status: referral.status,
          reason_code: referral.reason_code,
          approvals: Math.min(referral.approvals, rules.qualifyingApprovals),
          required: rules.qualifyingApprovals,
          created_at: referral.created_at.toISOString(),
          qualified_at: referral.qualified_at?.toISOString() ?? null,
        })),
        next_cursor: next,
        reward: { amount: rules.reward, currency: rules.currency },
      };
    },
  );
}
