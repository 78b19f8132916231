import { type Cause } from '@tessera/service-kit';
import type { Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { reconcileCampaign } from '../campaigns/index.ts';
import type { TasksDB } from '../db/schema.ts';
import { completeTaskIfDone } from '../task-catalog/index.ts';
import { type AppealNews, decideAppeal, feeNewsDeadline } from './decide.ts';
import { endClaim } from './handle.ts';
import {
  type AssignmentRecord,
  applyTransition,
  findAssignment,
  findAssignmentBySubmission,
  findLiveAssignment,
  moveAssignment,
  recordFeeEarned,
} from './repository.ts';

/**
 * What submissions reports about work done under a claim moves the assignment along and settles
 * what the claim held: a received submission keeps its slot until reviewed, an approved one turns
 * the reserved reward into money owed, a rejected one ends the claim (`endClaim`: the slot, the
 * quota unit and the reward are free). Either verdict leaves the claim's fee hold to the judges'
 * fees, which QC reports on its own stream and may be handled later (`judgeFeeEarned`); what they
 * do not use is freed once their time to arrive has passed (fee-holds.ts). Every move first
 * checks where the assignment is, so a repeated or late report never counts twice; reports may arrive out of order (a retried one after
 * a later one), so an outcome whose receipt has not been seen counts the receipt first.
 *
 * A rejection can be appealed (or QC can re-judge it): the appeal holds the reward again
 * (`holdForAppeal`) until it is decided; an approval of a rejected submission overturns it and the
 * reward becomes owed; an upheld appeal frees the hold (`appealDecided`). The decision is recorded,
 * so a filing handled after it holds nothing (decide.ts `decideAppeal`). Appeal news handled
 * before the submission's receipt or rejection waits for them (`AppealBeforeRejection`: the
 * consumer retries it). Money owed is what the claim fixed, never more than the report says.
 */

type Db = Kysely<TasksDB>;

/** Where a submission leaves its assignment. */
export type SubmissionOutcome =
  | { to: 'submitted' }
  | { to: 'approved'; owed: number }
  /** `appealableUntil`: until when the rejection can be appealed (decide.ts `appealWindowEnd`). */
  | { to: 'rejected'; appealableUntil: Date };

export interface SubmissionReport {
  submissionId: string;
  /** Absent from producers that predate it: the assignment is then found by submission or claim. */
  assignmentId: string | undefined;
  taskId: string;
  contributorId: string;
  /** When submissions decided it (its event's time). */
  at: Date;
}

export interface SettleContext {
  now: Date;
  cause: Cause & { type: string };
  log: Logger;
}

export async function settleSubmission(
  trx: Db,
  report: SubmissionReport,
  outcome: SubmissionOutcome,
  context: SettleContext,
): Promise<void> {
  const { cause, log, now } = context;
  const assignment = await locate(trx, report);
  const logged = { event_id: cause.id, type: cause.type, submission_id: report.submissionId };
  if (!assignment) {
    log.warn({ ...logged, assignment_id: report.assignmentId }, 'no assignment for this submission; ignored');
    return;
  }
  if (assignment.task_id !== report.taskId || assignment.contributor_id !== report.contributorId) {
    log.warn(
      { ...logged, assignment_id: assignment.id },
      'the submission names another task or contributor than its assignment; ignored',
    );
    return;
  }
  await settle(trx, assignment, report, outcome, context);
  if (outcome.to === 'approved') await completeTaskIfDone(trx, assignment.task_id, now, cause);
  await reconcileCampaign(trx, assignment.campaign_id, now, cause);
}

async function settle(
  trx: Db,
  assignment: AssignmentRecord,
  report: SubmissionReport,
  outcome: SubmissionOutcome,
  context: SettleContext,
): Promise<void> {
  const { log } = context;
  const { submissionId, at } = report;
  const logged = { event_id: context.cause.id, assignment_id: assignment.id, submission_id: submissionId };
  if (assignment.submission_id !== null && assignment.submission_id !== submissionId) {
    log.warn(
      { ...logged, recorded: assignment.submission_id },
      'the assignment already has another submission; ignored',
    );
    return;
  }
  if (assignment.status === 'rejected' && outcome.to === 'approved') {
    await overturn(trx, assignment, outcome.owed, context, at);
    return;
  }
  if (assignment.status === 'approved' || assignment.status === 'rejected') {
    if (outcome.to !== 'submitted' && outcome.to !== assignment.status) {
      log.warn(
        { ...logged, status: assignment.status },
        'the submission was already decided otherwise; ignored',
      );
    }
    return;
  }
  if (assignment.status === 'submitted' && outcome.to === 'submitted') return;
  if (assignment.submission_id === null) {
    const holder = await findAssignmentBySubmission(trx, submissionId);
    if (holder && holder.id !== assignment.id) {
      log.warn({ ...logged, holder: holder.id }, 'the submission is recorded on another assignment; ignored');
      return;
    }
  }

  const submitted =
    assignment.status === 'submitted' ? assignment : await receive(trx, assignment, report, context);
  if (!submitted) return;
  if (outcome.to === 'approved') {
    await moveAssignment(trx, submitted.id, ['submitted'], { status: 'approved', settled_at: at });
    await applyTransition(
      trx,
      submitted,
      {
        kind: 'approved',
        owed: owedFor(submitted, outcome.owed, context),
        feesAwaitedUntil: feeNewsDeadline(context.now),
      },
      context.now,
    );
  } else if (outcome.to === 'rejected') {
    await endClaim(
      trx,
      submitted,
      {
        to: 'rejected',
        appealableUntil: outcome.appealableUntil,
        feesAwaitedUntil: feeNewsDeadline(context.now),
      },
      { at },
    );
  }
}

/**
 * Counts the receipt of the work: an open claim's work holds its slot until reviewed; an expired
 * or released claim whose work arrived anyway takes its slot back, even beyond the task's maximum
 * (the work was done under the claim). Undefined when the late work is not counted.
 */
async function receive(
  trx: Db,
  assignment: AssignmentRecord,
  report: SubmissionReport,
  context: SettleContext,
): Promise<AssignmentRecord | undefined> {
  const { log, now } = context;
  if (assignment.status === 'active') {
    await applyTransition(trx, assignment, { kind: 'submitted' }, now);
  } else {
    if (!(await makeRoom(trx, assignment, context))) return undefined;
    log.info(
      {
        event_id: context.cause.id,
        assignment_id: assignment.id,
        submission_id: report.submissionId,
        status: assignment.status,
      },
      'late submission: its claim had ended; it takes its slot back',
    );
    await applyTransition(trx, assignment, { kind: 'late-submitted' }, now);
  }
  return moveAssignment(trx, assignment.id, [assignment.status], {
    status: 'submitted',
    submission_id: report.submissionId,
    ended_at: assignment.ended_at ?? report.at,
    settled_at: null,
  });
}

/**
 * A submission for an ended claim revives it; if the contributor has claimed the task again
 * meanwhile, that newer, still empty claim gives way (one piece of work per contributor and
 * task). If the newer one already carries a submission, the late one is not counted.
 */
async function makeRoom(trx: Db, assignment: AssignmentRecord, context: SettleContext): Promise<boolean> {
  const other = await findLiveAssignment(trx, assignment.task_id, assignment.contributor_id, {
    forUpdate: true,
  });
  if (!other) return true;
  if (other.status !== 'active') {
    context.log.warn(
      { event_id: context.cause.id, assignment_id: assignment.id, other: other.id },
      'late submission while the contributor already has another submission on the task; ignored',
    );
    return false;
  }
  await endClaim(trx, other, { to: 'released' }, { at: context.now, cause: context.cause });
  return true;
}

/**
 * The assignment a report is about, locked: by its id; for producers that predate
 * `assignment_id`, by the submission, then by the contributor's open claim or submission on the task.
 */
async function locate(trx: Db, report: SubmissionReport): Promise<AssignmentRecord | undefined> {
  if (report.assignmentId !== undefined) return findAssignment(trx, report.assignmentId, { forUpdate: true });
  return (
    (await findAssignmentBySubmission(trx, report.submissionId, { forUpdate: true })) ??
    (await findLiveAssignment(trx, report.taskId, report.contributorId, {
      forUpdate: true,
      statuses: ['active', 'submitted'],
    }))
  );
}

/** What an approval makes owed: what the report says, never more than the claim fixed. */
function owedFor(assignment: AssignmentRecord, reported: number, context: SettleContext): number {
  const fixed = Number(assignment.reward_amount);
  if (reported <= fixed) return reported;
  context.log.warn(
    { event_id: context.cause.id, assignment_id: assignment.id, reported, fixed },
    "an approval reports more than the claim fixed; the claim's reward is owed",
  );
  return fixed;
}

/** A rejected submission approved after all (an appeal, or QC re-judging): its reward becomes owed. */
async function overturn(
  trx: Db,
  assignment: AssignmentRecord,
  reported: number,
  context: SettleContext,
  at: Date,
): Promise<void> {
  // No appeal seen (a re-judging, or the appeal event still on its way): hold first, so the
  // counters move through the same steps whatever the order.
  if (assignment.appeal_state !== 'held')
    await applyTransition(trx, assignment, { kind: 'appeal-held' }, context.now);
  await moveAssignment(trx, assignment.id, ['rejected'], { status: 'approved', settled_at: at });
  await applyTransition(
    trx,
    assignment,
    { kind: 'overturned', owed: owedFor(assignment, reported, context) },
    context.now,
  );
  context.log.info(
    { event_id: context.cause.id, assignment_id: assignment.id, submission_id: assignment.submission_id },
    'a rejection was overturned: the reward is owed',
  );
}

/**
 * A contributor appealed a rejection: the reward, a quota unit and the slot are held again, so the
 * campaign cannot promise them to someone else (nor end and return them) while an admin decides.
 * An appeal already decided (its filing handled late, after a retry) holds nothing.
 */
export async function holdForAppeal(
  trx: Db,
  report: SubmissionReport,
  context: SettleContext,
): Promise<void> {
  await onAppeal(trx, report, 'filed', context);
}

/**
 * An appeal decided. Upheld: what it held is free for good. Overturned: its approval pays what it
 * held (`overturn`). Either way the decision is recorded, so a filing handled after it holds nothing.
 */
export async function appealDecided(
  trx: Db,
  report: SubmissionReport,
  outcome: 'upheld' | 'overturned',
  context: SettleContext,
): Promise<void> {
  await onAppeal(trx, report, outcome, context);
}

async function onAppeal(
  trx: Db,
  report: SubmissionReport,
  news: AppealNews,
  context: SettleContext,
): Promise<void> {
  const assignment = await locate(trx, report);
  const logged = { event_id: context.cause.id, submission_id: report.submissionId, appeal: news };
  if (assignment && !appealNewsCanApply(assignment, report.submissionId)) {
    // Only a rejection is appealed, and submissions rejected this submission before any appeal:
    // its receipt or its rejection is still on its way (a retried event). Handled later, never lost.
    throw new AppealBeforeRejection(
      `an appeal (${news}) of submission ${report.submissionId} before tasks saw it rejected; retried`,
    );
  }
  if (!assignment || assignment.submission_id !== report.submissionId) {
    context.log.warn(
      { ...logged, assignment_id: assignment?.id },
      'an appeal for a submission tasks does not hold; ignored',
    );
    return;
  }
  const transition = decideAppeal(assignment, news);
  if (!transition) return;
  await applyTransition(trx, assignment, transition, context.now);
  // Even a decision seen before its filing matters: the rejection can no longer be appealed, so
  // an ended campaign may announce its close before the window's end.
  await reconcileCampaign(trx, assignment.campaign_id, context.now, context.cause);
}

/**
 * Appeal news about a submission the claim does not yet show as judged (no submission recorded,
 * or this one recorded and not decided yet): the consumer retries it with backoff until the
 * receipt and the rejection have been handled, then dead-letters it where an operator sees it and
 * can replay it. An event is never dropped for arriving early.
 */
export class AppealBeforeRejection extends Error {
  override readonly name = 'AppealBeforeRejection';
}

/**
 * Whether appeal news can be applied to `assignment`: false while it has no submission yet, or
 * still has this one under review (`active` / `submitted`). True once it was judged, or when it
 * carries another submission (the news is then not about it, and ignored).
 */
function appealNewsCanApply(assignment: AssignmentRecord, submissionId: string): boolean {
  if (assignment.submission_id === null) return false;
  if (assignment.submission_id !== submissionId) return true;
  return assignment.status !== 'active' && assignment.status !== 'submitted';
}

/**
 * A judge's fee QC counted (`qc.review.fee-earned.v1`): owed from the campaign, taken from what the
 * claim held for fees while it still holds some. Under a named claim what is owed is the claim's
 * judge fee at most, as the ledger pays it or names it in its refusal, so its answer settles the
 * owed; a fee naming no claim is owed as reported, which the ledger's refusal names too.
 */
/**
 * QC reached a final verdict (approve or reject; not a revision request, after which judging goes on,
 * nor an appeal's decision, which counts no fees) on a submission. QC writes the fees a verdict
 * counted before the verdict on its stream, and this service reads that stream in order: every fee
 * of the verdict is booked, so what the claim still holds for fees (judges asked for but not needed)
 * is free now. The time-based release (fee-holds.ts) stays for claims whose verdict never arrives.
 */
export async function verdictFeesBooked(
  trx: Db,
  report: { submissionId: string; verdict: 'approve' | 'reject' | 'revision'; appeal: boolean },
  context: SettleContext,
): Promise<void> {
  if (report.verdict === 'revision' || report.appeal) return;
  const assignment = await findAssignmentBySubmission(trx, report.submissionId, { forUpdate: true });
  if (!assignment || Number(assignment.fee_hold_amount) === 0) return;
  await applyTransition(trx, assignment, { kind: 'fees-unused' }, context.now);
  await reconcileCampaign(trx, assignment.campaign_id, context.now, context.cause);
}

export async function judgeFeeEarned(
  trx: Db,
  report: { campaignId: string; assignmentId: string | undefined; submissionId: string; fee: number },
  context: SettleContext,
): Promise<void> {
  const assignment =
    report.assignmentId !== undefined
      ? await findAssignment(trx, report.assignmentId, { forUpdate: true })
      : await findAssignmentBySubmission(trx, report.submissionId, { forUpdate: true });
  const campaignId = report.campaignId.toLowerCase();
  if (assignment && assignment.campaign_id !== campaignId) {
    context.log.warn(
      { event_id: context.cause.id, assignment_id: assignment.id, campaign_id: campaignId },
      "a judge fee names another campaign than its claim; counted against the claim's campaign",
    );
  }
  const campaign = assignment?.campaign_id ?? campaignId;
  const owed =
    assignment && report.assignmentId !== undefined
      ? Math.min(report.fee, Number(assignment.judge_fee_amount))
      : report.fee;
  if (owed < report.fee) {
    context.log.warn(
      { event_id: context.cause.id, assignment_id: assignment?.id, reported: report.fee, owed },
      "a judge fee reports more than its claim's fee; the claim's fee is owed",
    );
  }
  await recordFeeEarned(trx, campaign, assignment, owed, context.now);
  await reconcileCampaign(trx, campaign, context.now, context.cause);
}
