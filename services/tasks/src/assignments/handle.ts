import { randomUUID } from 'node:crypto';
import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  type Cause,
  eventMeta,
  isUuid,
  orRefuse,
  Refusal,
  refusal,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { claimLeavesCampaignAsIs, lockCampaigns, reconcileCampaign } from '../campaigns/index.ts';
import type { TasksDB } from '../db/schema.ts';
import { ensureContributor, isInvited, standingOf } from '../eligibility/index.ts';
import { taskNotFound } from '../task-catalog/index.ts';
import {
  type ClaimEnding,
  confirmClaim,
  decideClaim,
  decideEnd,
  decideReservation,
  refusals,
} from './decide.ts';
import {
  type AssignmentRecord,
  applyTransition,
  findAssignment,
  findClaimTarget,
  findLiveAssignment,
  findLockedClaim,
  insertAssignment,
  isDuplicateClaim,
  makeClaimsDue,
  moveAssignment,
  reserveSlot,
} from './repository.ts';

/**
 * Claims and how they end. Each use case runs in the caller's transaction: a route's, a consumer's
 * (the inbox's) or a job's.
 */

type Db = Kysely<TasksDB>;

export const assignmentNotFound = () => refusal('not_found', 'ASSIGNMENT_NOT_FOUND', 'No such assignment.');

export interface ClaimCommand {
  taskId: string;
  /** Lower case. */
  contributorId: string;
  now: Date;
}

/**
 * Claims one slot of a task until it expires: decides on the task, its campaign and the caller's
 * standing (decide.ts `decideClaim`), holds the reward and judge fees, a quota unit and the slot (`reserveSlot`),
 * decides again on what holds under the locks that took (`confirmClaim`: eligibility, then
 * availability) and fixes the claim's terms, and announces the claim.
 */
export async function claimTask(trx: Db, command: ClaimCommand): Promise<AssignmentRecord> {
  const { taskId, contributorId, now } = command;
  const target = await findClaimTarget(trx, taskId);
  if (!target) throw taskNotFound();
  const reserved = orRefuse(
    decideClaim(
      {
        target,
        standing: await standingOf(trx, contributorId),
        invited: target.is_private ? await isInvited(trx, target.campaign_id, contributorId) : false,
        holdsClaim: (await findLiveAssignment(trx, taskId, contributorId)) !== undefined,
      },
      { now },
    ),
  );
  // The read model's row must exist for the claim to lock it (`findLockedClaim`): a suspension
  // creating it meanwhile would miss this claim. Made before the reservation, which every claim of
  // the campaign queues behind, so the campaign's row is held for no more than it must be.
  if (isUuid(contributorId)) await ensureContributor(trx, contributorId);
  orRefuse(
    decideReservation(
      await reserveSlot(trx, { campaignId: target.campaign_id, taskId, hold: reserved.hold, now }),
    ),
  );
  // The reservation locked the campaign and task rows: what they (and the contributor's standing
  // and invitation) say now is what holds.
  const locked = await findLockedClaim(trx, taskId, contributorId);
  if (!locked) throw taskNotFound();
  const terms = orRefuse(
    confirmClaim({ target: locked, standing: locked.standing, invited: locked.invited }, { now, reserved }),
  );

  let assignment: AssignmentRecord;
  try {
    assignment = await insertAssignment(trx, {
      id: randomUUID(),
      task_id: taskId,
      campaign_id: locked.campaign_id,
      contributor_id: contributorId,
      status: 'active',
      reward_amount: terms.reward.amount,
      currency: terms.reward.currency,
      xp_reward: terms.xp_reward,
      judge_fee_amount: terms.judge_fee.amount,
      max_judges: terms.max_judges,
      fee_hold_amount: terms.fee_hold,
      appeal_state: 'none',
      claimed_at: terms.claimed_at,
      expires_at: terms.expires_at,
    });
  } catch (error) {
    if (isDuplicateClaim(error)) throw refusals.alreadyClaimed();
    throw error;
  }
  const claimed = buildEvent(
    'tasks.assignment.claimed.v1',
    {
      assignment_id: assignment.id,
      task_id: assignment.task_id,
      campaign_id: assignment.campaign_id,
      contributor_id: assignment.contributor_id,
      company_id: locked.company_id,
      reward: terms.reward,
      xp_reward: assignment.xp_reward,
      judge_fee: terms.judge_fee,
      max_judges: terms.max_judges,
      expires_at: assignment.expires_at.toISOString(),
    },
    eventMeta(assignment.id, now),
  );
  await appendToOutbox(trx, [claimed]);
  // This claim may leave too little budget for the next one: the campaign pauses itself. Unless
  // the claim shows it cannot have (campaigns/money.ts), which spares two reads under the lock.
  if (!claimLeavesCampaignAsIs(locked.automation)) {
    await reconcileCampaign(trx, assignment.campaign_id, now, claimed);
  }
  return assignment;
}

/**
 * After a claim refused for want of budget (its transaction rolled back): the campaign still pauses
 * itself if no open task is affordable any more. Anything else refused changes nothing.
 */
export async function afterClaimRefused(
  db: Db,
  command: ClaimCommand,
  error: unknown,
  log: { error(details: object, message: string): void },
): Promise<void> {
  if (!(error instanceof Refusal) || error.code !== refusals.budgetExhausted().code) return;
  const target = await findClaimTarget(db, command.taskId);
  if (!target) return;
  await db
    .transaction()
    .execute((trx) => reconcileCampaign(trx, target.campaign_id, command.now))
    .catch((reconcileError: unknown) =>
      log.error({ err: reconcileError, campaign_id: target.campaign_id }, 'campaign reconcile failed'),
    );
}

/** A contributor gives an open claim back before submitting; its slot is free again. */
export async function releaseClaim(
  trx: Db,
  command: { assignmentId: string; contributorId: string; now: Date },
): Promise<AssignmentRecord> {
  // The row lock orders this release with the expiry job and submissions: one frees the slot. The
  // campaign is locked first, as everywhere (campaigns/repository.ts `lockCampaigns`).
  const peeked = await findAssignment(trx, command.assignmentId);
  if (peeked) await lockCampaigns(trx, [peeked.campaign_id]);
  const current = await findAssignment(trx, command.assignmentId, { forUpdate: true });
  if (!current || current.contributor_id !== command.contributorId) throw assignmentNotFound();
  const { assignment, event } = await endClaim(trx, current, { to: 'released' }, { at: command.now });
  await reconcileCampaign(trx, assignment.campaign_id, command.now, event ?? undefined);
  return assignment;
}

/**
 * Ends a claim: given back (the release route, or a late submission that revives an older claim),
 * its time run out (the expiry job), or its work rejected (the submissions consumer). The
 * assignment moves on (decide.ts `decideEnd`), its slot, quota unit and reward are freed, and a
 * release or an expiry is announced. The caller holds the assignment's row lock and re-decides the
 * campaign afterwards (`reconcileCampaign`), once per transaction.
 */
export async function endClaim(
  trx: Db,
  assignment: AssignmentRecord,
  ending: ClaimEnding,
  context: { at: Date; cause?: Cause },
): Promise<{ assignment: AssignmentRecord; event: TesseraEvent | null }> {
  const { at, cause } = context;
  const end = orRefuse(decideEnd(assignment, { ...ending, at }));
  const ended = await moveAssignment(trx, assignment.id, [end.from], end.set);
  if (!ended)
    throw refusal(
      'conflict',
      `ASSIGNMENT_NOT_${end.from.toUpperCase()}`,
      `The assignment is not ${end.from}.`,
    );
  await applyTransition(trx, ended, end.frees, at);
  if (!end.announce) return { assignment: ended, event: null };
  const ref = {
    assignment_id: ended.id,
    task_id: ended.task_id,
    campaign_id: ended.campaign_id,
    contributor_id: ended.contributor_id,
  };
  const meta = eventMeta(ended.id, at, cause);
  const event =
    end.announce.type === 'expired'
      ? buildEvent('tasks.assignment.expired.v1', { ...ref, reason_code: end.announce.reason }, meta)
      : buildEvent('tasks.assignment.released.v1', ref, meta);
  await appendToOutbox(trx, [event]);
  return { assignment: ended, event };
}

/**
 * A suspended or erased contributor's open claims stop holding slots and budget: they are made
 * due at `at`, and the expiry job frees them (reason `account_not_active`) with the same locking as
 * any expiry. Submitted work is left to submissions and QC to judge.
 *
 * Every open claim, also one made after the event's time: made while this service had not heard of
 * the suspension yet, it was made by someone suspended. A suspension the read model ignored as
 * older than the status it holds (a reinstatement came after it) makes nothing due: the caller
 * does not call this for it.
 */
export async function makeOpenClaimsDue(trx: Db, contributorId: string, at: Date): Promise<void> {
  await makeClaimsDue(trx, contributorId, at);
}
