import { type HttpApp, registerAdminSummary } from '@tessera/service-kit';
import { sql } from 'kysely';
import { z } from 'zod';
import type { SubmissionsContext } from './context.ts';

export const submissionsSummarySchema = z.object({
  /** Handed in and waiting for a verdict (screening or review). */
  in_review: z.number().int(),
  revision_requested: z.number().int(),
  /** Submissions with at least one fraud signal, and those of them still in review. */
  flagged_submissions: z.object({ total: z.number().int(), in_review: z.number().int() }),
  open_appeals: z.number().int(),
});

/** Submissions' figures of the admin dashboard (the gateway composes them). */
export function registerSubmissionsSummary(app: HttpApp, { db }: SubmissionsContext): void {
  registerAdminSummary(app, submissionsSummarySchema, async () => {
    const [statuses, flagged, appeals] = await Promise.all([
      db
        .selectFrom('submissions')
        .select([
          sql<number>`count(*) filter (where status in ('received', 'in_review'))::int`.as('in_review'),
          sql<number>`count(*) filter (where status = 'revision_requested')::int`.as('revision'),
        ])
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('submissions as s')
        .select([
          sql<number>`count(*)::int`.as('total'),
          sql<number>`count(*) filter (where s.status in ('received', 'in_review'))::int`.as('in_review'),
        ])
        .where((eb) =>
          eb.exists(
            eb.selectFrom('fraud_flags as f').select('f.id').whereRef('f.submission_id', '=', 's.id'),
          ),
        )
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('appeals')
        .select(sql<number>`count(*)::int`.as('count'))
        .where('status', '=', 'open')
        .executeTakeFirstOrThrow(),
    ]);
    return {
      in_review: statuses.in_review,
      revision_requested: statuses.revision,
      flagged_submissions: { total: flagged.total, in_review: flagged.in_review },
      open_appeals: appeals.count,
    };
  });
}
