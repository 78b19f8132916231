import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox, type HandlerMap } from '@tessera/service-kit';
import { sql, type Transaction } from 'kysely';
import {
  type AssignmentRow,
  findAssignment,
  findAssignmentBySubmission,
  findLiveAssignment,
} from '../db/assignments.ts';
import { applyTransition, reconcileCampaign } from '../db/campaign-money.ts';
import type { TasksDB } from '../db/schema.ts';
import type { ConsumerDeps } from './consumers.ts';

type Trx = Transaction<TasksDB>;

type SubmissionEvent = TesseraEvent<
  | 'submissions.submission.received.v1'
  | 'submissions.submission.approved.v1'
  | 'submissions.submission.rejected.v1'
>;

/** Where a submission leaves its assignment. */
type Outcome = { to: 'submitted' } | { to: 'approved'; owed: number } | { to: 'rejected' };

/**
 * What submissions tells us about work done under a claim moves the assignment along and settles
 * what the claim held: a received submission keeps its slot until reviewed, an approved one turns
 * the reserved reward into money owed, a rejected one frees the slot, the quota unit and the
 * reward. Every move first checks where the assignment is, so a repeated or late event never
 * counts twice; events may arrive out of order (a retried one after a later one), so an outcome
 * whose `received` has not been seen counts the receipt too.
 */
export function submissionHandlers(deps: ConsumerDeps): HandlerMap<TasksDB> {
  const log = deps.logger.child({ component: 'submissions-consumer' });

  async function handle(event: SubmissionEvent, trx: Trx, outcome: Outcome): Promise<void> {
    const data = event.data;
    const assignment = await locate(trx, {
      assignmentId: data.assignment_id,
      submissionId: data.submission_id,
      taskId: data.task_id,
      contributorId: data.contributor_id,
    });
    const context = { event_id: event.id, type: event.type, submission_id: data.submission_id };
    if (!assignment) {
      log.warn(
        { ...context, assignment_id: data.assignment_id },
        'no assignment for this submission; ignored',
      );
      return;
    }
    if (assignment.task_id !== data.task_id || assignment.contributor_id !== data.contributor_id) {
      log.warn(
        { ...context, assignment_id: assignment.id },
        'the submission names another task or contributor than its assignment; ignored',
      );
      return;
    }
    await settle(trx, event, assignment, outcome);
    if (outcome.to === 'approved') await completeTaskIfDone(trx, assignment.task_id, event);
    await reconcileCampaign(trx, assignment.campaign_id, event);
  }

  async function settle(
    trx: Trx,
    event: SubmissionEvent,
    assignment: AssignmentRow,
    outcome: Outcome,
  ): Promise<void> {
    const submissionId = event.data.submission_id;
    const context = { event_id: event.id, assignment_id: assignment.id, submission_id: submissionId };
    if (assignment.submission_id !== null && assignment.submission_id !== submissionId) {
      log.warn(
        { ...context, recorded: assignment.submission_id },
        'the assignment already has another submission; ignored',
      );
      return;
    }
    if (assignment.status === 'approved' || assignment.status === 'rejected') {
      if (outcome.to !== 'submitted' && outcome.to !== assignment.status) {
        log.warn(
          { ...context, status: assignment.status },
          'the submission was already decided otherwise; ignored',
        );
      }
      return;
    }
    if (assignment.status === 'submitted' && outcome.to === 'submitted') return;
    if (assignment.submission_id === null) {
      const holder = await findAssignmentBySubmission(trx, submissionId);
      if (holder && holder.id !== assignment.id) {
        log.warn(
          { ...context, holder: holder.id },
          'the submission is recorded on another assignment; ignored',
        );
        return;
      }
    }

    // Count the receipt first if it has not been counted (the received event is late or lost).
    if (assignment.status === 'active') {
      await applyTransition(trx, assignment, { kind: 'submitted' });
    } else if (assignment.status === 'expired' || assignment.status === 'released') {
      if (!(await makeRoom(trx, event, assignment))) return;
      // The work was done under the claim: it takes its slot back, even beyond the task's maximum.
      log.info(
        { ...context, status: assignment.status },
        'late submission: its claim had ended; it takes its slot back',
      );
      await applyTransition(trx, assignment, { kind: 'late-submitted' });
    }

    const at = new Date(event.time);
    await trx
      .updateTable('assignments')
      .set({
        status: outcome.to,
        submission_id: submissionId,
        ended_at: sql`coalesce(ended_at, ${at})`,
        settled_at: outcome.to === 'submitted' ? null : at,
      })
      .where('id', '=', assignment.id)
      .execute();
    if (outcome.to === 'approved') {
      await applyTransition(trx, assignment, { kind: 'approved', owed: outcome.owed });
    } else if (outcome.to === 'rejected') {
      await applyTransition(trx, assignment, { kind: 'rejected' });
    }
  }

  /**
   * A submission for an ended claim revives it; if the contributor has claimed the task again
   * meanwhile, that newer, still empty claim gives way (one piece of work per contributor and
   * task). If the newer one already carries a submission, the late one is not counted.
   */
  async function makeRoom(trx: Trx, event: SubmissionEvent, assignment: AssignmentRow): Promise<boolean> {
    const other = await findLiveAssignment(trx, assignment.task_id, assignment.contributor_id, {
      forUpdate: true,
    });
    if (!other) return true;
    if (other.status !== 'active') {
      log.warn(
        { event_id: event.id, assignment_id: assignment.id, other: other.id },
        'late submission while the contributor already has another submission on the task; ignored',
      );
      return false;
    }
    const now = new Date();
    await trx
      .updateTable('assignments')
      .set({ status: 'released', ended_at: now, settled_at: now })
      .where('id', '=', other.id)
      .execute();
    await applyTransition(trx, other, { kind: 'freed' });
    await appendToOutbox(trx, [
      buildEvent(
        'tasks.assignment.released.v1',
        {
          assignment_id: other.id,
          task_id: other.task_id,
          campaign_id: other.campaign_id,
          contributor_id: other.contributor_id,
        },
        causedBy(event, other.id),
      ),
    ]);
    return true;
  }

  return {
    'submissions.submission.received.v1': (event, trx) => handle(event, trx, { to: 'submitted' }),
    'submissions.submission.approved.v1': (event, trx) =>
      handle(event, trx, { to: 'approved', owed: event.data.reward.amount }),
    'submissions.submission.rejected.v1': (event, trx) => handle(event, trx, { to: 'rejected' }),
  };
}

/**
 * The assignment a submission event is about, locked: by its id; for producers that predate
 * `assignment_id`, by the submission, then by the contributor's open claim or submission on the task.
 */
async function locate(
  trx: Trx,
  ref: { assignmentId: string | undefined; submissionId: string; taskId: string; contributorId: string },
): Promise<AssignmentRow | undefined> {
  if (ref.assignmentId !== undefined) return findAssignment(trx, ref.assignmentId, { forUpdate: true });
  return (
    (await findAssignmentBySubmission(trx, ref.submissionId, { forUpdate: true })) ??
    (await findLiveAssignment(trx, ref.taskId, ref.contributorId, {
      forUpdate: true,
      statuses: ['active', 'submitted'],
    }))
  );
}

/** A task whose approved submissions reached its maximum is done: it closes for good, once. */
async function completeTaskIfDone(trx: Trx, taskId: string, cause: SubmissionEvent): Promise<void> {
  const closed = await trx
    .updateTable('tasks')
    .set({ status: 'completed', updated_at: new Date() })
    .where('id', '=', taskId)
    .where('status', 'in', ['active', 'paused'])
    .where((eb) => eb('approved_count', '>=', eb.ref('max_submissions')))
    .returning(['id', 'campaign_id', 'company_id'])
    .executeTakeFirst();
  if (!closed) return;
  await appendToOutbox(trx, [
    buildEvent(
      'tasks.task.closed.v1',
      {
        task_id: closed.id,
        campaign_id: closed.campaign_id,
        company_id: closed.company_id,
        reason_code: 'completed',
      },
      causedBy(cause, closed.id),
    ),
  ]);
}
