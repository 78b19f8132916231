import type { HandlerMap } from '@tessera/service-kit';
import { judgeFeeEarned } from '../assignments/index.ts';
import type { TasksDB } from '../db/schema.ts';
import type { ConsumerDeps } from './consumers.ts';

/** A judge's fee QC counted is owed from the campaign's budget (assignments/settle.ts). */
export function qcHandlers(deps: ConsumerDeps): HandlerMap<TasksDB> {
  const log = deps.logger.child({ component: 'qc-consumer' });
  return {
    'qc.review.fee-earned.v1': (event, trx) =>
      judgeFeeEarned(
        trx,
        {
          campaignId: event.data.campaign_id,
          assignmentId: event.data.assignment_id,
          submissionId: event.data.submission_id,
          fee: event.data.fee.amount,
        },
        { now: deps.clock(), cause: event, log },
      ),
  };
}
