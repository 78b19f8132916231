import type { TesseraEvent } from '@tessera/contracts';
import type { HandlerMap } from '@tessera/service-kit';
import {
  appealDecided,
  appealWindowEnd,
  holdForAppeal,
  settleSubmission,
  type SubmissionOutcome,
} from '../assignments/index.ts';
import type { TasksDB } from '../db/schema.ts';
import type { ConsumerDeps } from './consumers.ts';

type SubmissionEvent = TesseraEvent<
  | 'submissions.submission.received.v1'
  | 'submissions.submission.approved.v1'
  | 'submissions.submission.rejected.v1'
  | 'submissions.appeal.filed.v1'
  | 'submissions.appeal.decided.v1'
>;

/** What submissions says about work done under a claim settles it (assignments/settle.ts). */
export function submissionHandlers(deps: ConsumerDeps): HandlerMap<TasksDB> {
  const log = deps.logger.child({ component: 'submissions-consumer' });
  const reportOf = (event: SubmissionEvent) => ({
    submissionId: event.data.submission_id,
    assignmentId: event.data.assignment_id,
    taskId: event.data.task_id,
    contributorId: event.data.contributor_id,
    at: new Date(event.time),
  });
  const contextOf = (event: SubmissionEvent) => ({ now: deps.clock(), cause: event, log });
  const settle = (
    event: SubmissionEvent,
    trx: Parameters<typeof settleSubmission>[0],
    outcome: SubmissionOutcome,
  ) => settleSubmission(trx, reportOf(event), outcome, contextOf(event));

  return {
    'submissions.submission.received.v1': (event, trx) => settle(event, trx, { to: 'submitted' }),
    'submissions.submission.approved.v1': (event, trx) =>
      settle(event, trx, { to: 'approved', owed: event.data.reward.amount }),
    'submissions.submission.rejected.v1': (event, trx) =>
      settle(event, trx, {
        to: 'rejected',
        appealableUntil: appealWindowEnd(
          event.data.appealable_until === undefined ? undefined : new Date(event.data.appealable_until),
          new Date(event.time),
        ),
      }),
    'submissions.appeal.filed.v1': (event, trx) => holdForAppeal(trx, reportOf(event), contextOf(event)),
    'submissions.appeal.decided.v1': (event, trx) =>
      appealDecided(trx, reportOf(event), event.data.outcome, contextOf(event)),
  };
}
