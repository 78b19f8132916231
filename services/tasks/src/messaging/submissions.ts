import type { TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import { settleSubmission, type SubmissionOutcome } from '../assignments/index.ts';
import type { TasksDB } from '../db/schema.ts';
import type { ConsumerDeps } from './consumers.ts';

type SubmissionEvent = TesseraEvent<
  | 'submissions.submission.received.v1'
  | 'submissions.submission.approved.v1'
  | 'submissions.submission.rejected.v1'
>;

/** What submissions says about work done under a claim settles it (assignments/settle.ts). */
export function submissionHandlers(deps: ConsumerDeps): HandlerMap<TasksDB> {
  const log = deps.logger.child({ component: 'submissions-consumer' });

  const settle = (
    event: SubmissionEvent,
    trx: Parameters<typeof settleSubmission>[0],
    outcome: SubmissionOutcome,
  ) =>
    settleSubmission(
      trx,
      {
        submissionId: event.data.submission_id,
        assignmentId: event.data.assignment_id,
        taskId: event.data.task_id,
        contributorId: event.data.contributor_id,
        at: new Date(event.time),
      },
      outcome,
      { now: deps.clock(), cause: event, log },
    );

  return {
    'submissions.submission.received.v1': (event, trx) => settle(event, trx, { to: 'submitted' }),
    'submissions.submission.approved.v1': (event, trx) =>
      settle(event, trx, { to: 'approved', owed: event.data.reward.amount }),
    'submissions.submission.rejected.v1': (event, trx) => settle(event, trx, { to: 'rejected' }),
  };
}
