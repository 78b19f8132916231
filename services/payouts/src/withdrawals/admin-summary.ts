import { type HttpApp, registerAdminSummary } from '@tessera/service-kit';
import { sql } from 'kysely';
import { z } from 'zod';
import type { PayoutsContext } from '../context.ts';

/** Not yet paid out, nor refused: requested, waiting for review, approved or being sent. */
const PENDING = ['requested', 'pending_review', 'approved', 'processing'] as const;

export const payoutsSummarySchema = z.object({
  pending_payouts: z.array(
    z.object({ currency: z.string(), count: z.number().int(), amount: z.number().int() }),
  ),
  /** Waiting for an admin's approval. */
  awaiting_review: z.number().int(),
});

/** Payouts' figures of the admin dashboard (the gateway composes them). */
export function registerPayoutsSummary(app: HttpApp, { db }: PayoutsContext): void {
  registerAdminSummary(app, payoutsSummarySchema, async () => {
    const rows = await db
      .selectFrom('withdrawals')
      .select([
        'currency',
        sql<number>`count(*)::int`.as('count'),
        sql<number>`coalesce(sum(amount), 0)::bigint`.as('amount'),
        sql<number>`count(*) filter (where status = 'pending_review')::int`.as('review'),
      ])
      .where('status', 'in', [...PENDING])
      .groupBy('currency')
      .orderBy('currency')
      .execute();
    return {
      pending_payouts: rows.map((row) => ({
        currency: row.currency,
        count: row.count,
        amount: Number(row.amount),
      })),
      awaiting_review: rows.reduce((sum, row) => sum + row.review, 0),
    };
  });
}
