import { type HttpApp, registerAdminSummary } from '@tessera/service-kit';
import { sql } from 'kysely';
import { z } from 'zod';
import type { QcContext } from '../context.ts';

export const qcSummarySchema = z.object({
  /** Cases still waiting for judges' reviews. */
  pending_reviews: z.number().int(),
  /** Split decisions waiting for an admin. */
  escalations: z.number().int(),
  open_appeals: z.number().int(),
  active_judges: z.number().int(),
});

/** QC's figures of the admin dashboard (the gateway composes them). */
export function registerQcSummary(app: HttpApp, { db }: QcContext): void {
  registerAdminSummary(app, qcSummarySchema, async () => {
    const count = sql<number>`count(*)::int`.as('count');
    const [cases, appeals, judges] = await Promise.all([
      db
        .selectFrom('cases')
        .select([
          sql<number>`count(*) filter (where status = 'open')::int`.as('open'),
          sql<number>`count(*) filter (where status = 'escalated')::int`.as('escalated'),
        ])
        .where('status', 'in', ['open', 'escalated'])
        .executeTakeFirstOrThrow(),
      db.selectFrom('appeals').select(count).where('status', '=', 'open').executeTakeFirstOrThrow(),
      db.selectFrom('judges').select(count).where('status', '=', 'active').executeTakeFirstOrThrow(),
    ]);
    return {
      pending_reviews: cases.open,
      escalations: cases.escalated,
      open_appeals: appeals.count,
      active_judges: judges.count,
    };
  });
}
