import type { HandlerMap } from '@tessera/service-kit';
import { sql } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';

/**
 * A judge QC assigned to a submission may read it (and its media) while their lease lasts: until
 * the latest `lease_expires_at` QC announced for them on it, whatever order the leases arrive in.
 * Once the lease is over QC refuses their review anyway, so nothing is left for them to read it for.
 */
export function reviewAccessHandlers(): HandlerMap<SubmissionsDB> {
  return {
    'qc.review.assigned.v1': async (event, trx) => {
      await trx
        .insertInto('review_access')
        .values({
          submission_id: event.data.submission_id,
          judge_id: event.data.judge_id,
          review_id: event.data.review_id,
          granted_at: event.time,
          access_until: event.data.lease_expires_at,
        })
        .onConflict((oc) =>
          oc.columns(['submission_id', 'judge_id']).doUpdateSet({
            access_until: sql`greatest(review_access.access_until, excluded.access_until)`,
          }),
        )
        .execute();
    },
  };
}
