import type { HandlerMap } from '@tessera/service-kit';
import { judgeFeeEarned, verdictFeesBooked } from '../assignments/index.ts';
import type { TasksDB } from '../db/schema.ts';
import type { ConsumerDeps } from './consumers.ts';

/**
 * A judge's fee QC counted is owed from the campaign's budget; a final verdict, which QC writes after
 * the fees it counted, frees what the claim held for fees beyond them (assignments/settle.ts).
 */
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
    'qc.submission.verdict-reached.v1': (event, trx) =>
      verdictFeesBooked(
        trx,
        {
          submissionId: event.data.submission_id,
          verdict: event.data.verdict,
          appeal: event.data.appeal_id !== undefined || event.data.method === 'appeal',
        },
        { now: deps.clock(), cause: event, log },
      ),
  };
}
