import type { HandlerMap } from '@tessera/service-kit';
import type { SubmissionsDB } from '../db/schema.ts';

/** A judge QC assigned to a submission may read it (and its media) from then on. */
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
        })
        .onConflict((oc) => oc.columns(['submission_id', 'judge_id']).doNothing())
        .execute();
    },
  };
}
