import { isUniqueViolation, isUuid, notParked } from '@tessera/service-kit';
import { type Kysely, type Selectable, sql } from 'kysely';
import { type AfterClaim, availableToPromise } from '../campaigns/index.ts';
import type { AssignmentsTable, TasksDB } from '../db/schema.ts';
import { type ContributorStanding, standingFrom } from '../eligibility/index.ts';
import {
  type AppealState,
  type AssignmentStatus,
  type AssignmentTransition,
  type ClaimTarget,
  LIVE_STATUSES,
  type ReserveOutcome,
} from './decide.ts';

type Db = Kysely<TasksDB>;

export type AssignmentRecord = Selectable<AssignmentsTable>;

/** The partial unique index that allows one live assignment per (task, contributor). */
export const onePerContributorIndex = 'assignments_one_per_contributor';

/** Whether `error` is Postgres refusing a second live assignment for the same task and contributor. */
export function isDuplicateClaim(error: unknown): boolean {
  return isUniqueViolation(error, onePerContributorIndex);
}

type ClaimTargetRow = ClaimTarget & {
  campaign_id: string;
  company_id: string;
  is_private: boolean;
  /** What the campaign's automation looks at, as read (read under the locks, what a claim left). */
  automation: AfterClaim;
};

/** A task and its campaign, as a claim sees them; `campaign_id` to reserve from. */
export async function findClaimTarget(db: Db, taskId: string): Promise<ClaimTargetRow | undefined> {
  const row = await claimTargetQuery(db, taskId).executeTakeFirst();
  return row ? toClaimTarget(row) : undefined;
}

/**
 * What the claim decides on again once the reservation locked the campaign and task rows, in one
 * round trip: the task and campaign, the contributor's standing (their read-model row, which the
 * caller made sure exists, `ensureContributor`, locked `for share`, so a suspension or an erasure
 * waits for the claim and then makes it due, or the claim waits for it and sees it) and whether
 * they are invited (invitations change under the campaign's lock).
 */
export async function findLockedClaim(
  trx: Db,
  taskId: string,
  contributorId: string,
): Promise<(ClaimTargetRow & { standing: ContributorStanding; invited: boolean }) | undefined> {
  // A subject that is not a user id has no read-model row and no invitation.
  if (!isUuid(contributorId)) {
    const target = await findClaimTarget(trx, taskId);
    return target && { ...target, standing: standingFrom(undefined), invited: false };
  }
  const row = await trx
    .with('who', (db) =>
      db
        .selectFrom('contributors')
        .select(['status', 'level', 'trust_score', 'languages', 'country'])
        .where('user_id', '=', contributorId)
        .forShare(),
    )
    .selectFrom('tasks as t')
    .innerJoin('campaigns as c', 'c.id', 't.campaign_id')
    .leftJoin('who', (join) => join.onTrue())
    .select(claimTargetColumns)
    .select((eb) => [
      'who.status as who_status',
      'who.level as who_level',
      'who.trust_score as who_trust_score',
      'who.languages as who_languages',
      'who.country as who_country',
      eb
        .exists(
          eb
            .selectFrom('campaign_invitations as i')
            .whereRef('i.campaign_id', '=', 'c.id')
            .where('i.user_id', '=', contributorId),
        )
        .$castTo<boolean>()
        .as('invited'),
    ])
    .where('t.id', '=', taskId)
    .executeTakeFirst();
  if (!row) return undefined;
  const standing = standingFrom(
    row.who_status === null
      ? undefined
      : {
          status: row.who_status,
          level: row.who_level!,
          trust_score: row.who_trust_score!,
          languages: row.who_languages!,
          country: row.who_country,
        },
  );
  return { ...toClaimTarget(row), standing, invited: row.invited };
}

const claimTargetColumns = [
  't.campaign_id',
  't.company_id',
  't.status',
  't.reward_amount',
  't.currency',
  't.xp_reward',
  't.judge_fee_amount',
  't.max_judges',
  't.min_level',
  't.min_trust_score',
  't.required_languages',
  't.regions',
  't.claim_ttl_seconds',
  't.deadline',
  't.slots_taken',
  't.max_submissions',
  'c.status as campaign_status',
  'c.start_at as campaign_start_at',
  'c.end_at as campaign_end_at',
  'c.is_private',
  'c.target_count',
  'c.quota_taken',
  'c.funded_amount',
  'c.spent_amount',
  'c.returned_amount',
  'c.reserved_amount',
  'c.owed_amount',
  'c.approved_count',
  'c.close_event',
  't.claim_hold_amount',
] as const;

const claimTargetQuery = (db: Db, taskId: string) =>
  db
    .selectFrom('tasks as t')
    .innerJoin('campaigns as c', 'c.id', 't.campaign_id')
    .select(claimTargetColumns)
    .where('t.id', '=', taskId);

function toClaimTarget(
  row: NonNullable<Awaited<ReturnType<ReturnType<typeof claimTargetQuery>['executeTakeFirst']>>>,
): ClaimTargetRow {
  const available = availableToPromise({
    funded: Number(row.funded_amount),
    spent: Number(row.spent_amount),
    returned: Number(row.returned_amount),
    reserved: Number(row.reserved_amount),
    owed: Number(row.owed_amount),
  });
  return {
    campaign_id: row.campaign_id,
    company_id: row.company_id,
    is_private: row.is_private,
    automation: {
      status: row.campaign_status,
      close_event: row.close_event,
      target_count: row.target_count,
      approved_count: row.approved_count,
      available,
      task_open: row.status === 'active' && row.slots_taken < row.max_submissions,
      task_hold: Number(row.claim_hold_amount),
    },
    task: {
      status: row.status,
      deadline: row.deadline,
      reward: { amount: Number(row.reward_amount), currency: row.currency },
      xp_reward: row.xp_reward,
      judge_fee: Number(row.judge_fee_amount),
      max_judges: row.max_judges,
      claim_ttl_seconds: row.claim_ttl_seconds,
      slots_taken: row.slots_taken,
      max_submissions: row.max_submissions,
      requirements: {
        min_level: row.min_level,
        min_trust_score: Number(row.min_trust_score),
        required_languages: row.required_languages,
        regions: row.regions,
        is_private: row.is_private,
      },
    },
    campaign: {
      status: row.campaign_status,
      start_at: row.campaign_start_at,
      end_at: row.campaign_end_at,
      available,
      target_count: row.target_count,
      quota_taken: row.quota_taken,
    },
  };
}

export async function findLiveAssignment(
  db: Db,
  taskId: string,
  contributorId: string,
  options: { forUpdate?: boolean; statuses?: readonly AssignmentStatus[] } = {},
): Promise<AssignmentRecord | undefined> {
  let query = db
    .selectFrom('assignments')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('contributor_id', '=', contributorId)
    .where('status', 'in', options.statuses ?? LIVE_STATUSES)
    .orderBy('claimed_at', 'desc')
    .limit(1);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findAssignment(
  db: Db,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<AssignmentRecord | undefined> {
  let query = db.selectFrom('assignments').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findAssignmentBySubmission(
  db: Db,
  submissionId: string,
  options: { forUpdate?: boolean } = {},
): Promise<AssignmentRecord | undefined> {
  let query = db.selectFrom('assignments').selectAll().where('submission_id', '=', submissionId);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function insertAssignment(
  db: Db,
  row: Omit<
    AssignmentRecord,
    'submission_id' | 'ended_at' | 'settled_at' | 'appealable_until' | 'fee_hold_until'
  >,
): Promise<AssignmentRecord> {
  return db
    .insertInto('assignments')
    .values({
      ...row,
      submission_id: null,
      ended_at: null,
      settled_at: null,
      appealable_until: null,
      fee_hold_until: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Moves an assignment from one status to another, only if it is still in `from` (the caller holds
 * its row lock, so this is a safeguard rather than the concurrency control).
 */
export async function moveAssignment(
  db: Db,
  id: string,
  from: readonly AssignmentStatus[],
  set: Partial<
    Pick<AssignmentRecord, 'status' | 'submission_id' | 'ended_at' | 'settled_at' | 'appealable_until'>
  >,
): Promise<AssignmentRecord | undefined> {
  return db
    .updateTable('assignments')
    .set(set)
    .where('id', '=', id)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/** A contributor's assignments, newest first, from `before` on (exclusive). */
export async function listAssignments(
  db: Db,
  query: {
    contributorId: string;
    status?: AssignmentStatus;
    before?: { claimedAt: Date; id: string };
    limit: number;
  },
): Promise<AssignmentRecord[]> {
  let select = db
    .selectFrom('assignments')
    .selectAll()
    .where('contributor_id', '=', query.contributorId)
    .orderBy('claimed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit);
  if (query.status) select = select.where('status', '=', query.status);
  const before = query.before;
  if (before) {
    // A row comparison walks the (contributor_id, claimed_at desc, id desc) index.
    select = select.where(sql<boolean>`(claimed_at, id) < (${before.claimedAt}, ${before.id})`);
  }
  return select.execute();
}

/**
 * Open claims past their expiry time, oldest first; the claims the job `parkedBy` parked (by their
 * id) are left out, not the rest of their campaign.
 */
export async function dueAssignments(db: Db, now: Date, limit: number, parkedBy?: string) {
  return db
    .selectFrom('assignments')
    .select(['id', 'campaign_id'])
    .where('status', '=', 'active')
    .where('expires_at', '<=', now)
    .$if(parkedBy !== undefined, (q) => q.where(notParked(parkedBy!, 'assignments.id')))
    .orderBy('expires_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * The due assignments among `ids`, locked, re-checked under the lock (each may have been released
 * or submitted since the scan), skipping those another transaction holds (`skip locked`: that
 * release, submission or other expiry wins it). Locked in one order (task, id) by every instance.
 */
export async function lockDueAssignments(
  trx: Db,
  ids: readonly string[],
  now: Date,
): Promise<AssignmentRecord[]> {
  return trx
    .selectFrom('assignments')
    .selectAll()
    .where('id', 'in', ids)
    .where('status', '=', 'active')
    .where('expires_at', '<=', now)
    .orderBy('task_id')
    .orderBy('id')
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Which of these contributors the read model says are suspended or erased. */
export async function inactiveContributors(trx: Db, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await trx
    .selectFrom('contributors')
    .select('user_id')
    .where('user_id', 'in', [...new Set(userIds)])
    .where('status', '!=', 'active')
    .execute();
  return new Set(rows.map((row) => row.user_id));
}

/** A contributor's open claims become due at `at` (or stay due earlier): the expiry job frees them. */
export async function makeClaimsDue(trx: Db, contributorId: string, at: Date): Promise<void> {
  await trx
    .updateTable('assignments')
    .set({ expires_at: sql`least(expires_at, ${at}::timestamptz)` })
    .where('contributor_id', '=', contributorId)
    .where('status', '=', 'active')
    .execute();
}

// ---- what claims hold ----------------------------------------------------------------------------
// With campaigns/repository.ts (`recordLedgerMovement`), the only code that changes a campaign's
// money counters and a task's slots, in the caller's transaction. Locks are always taken campaign
// first, then task or assignment, so claims, releases, expiries and settlements never deadlock: a
// transaction that may hold several campaigns (a consumer's batch) locks them all first, in id
// order (campaigns/repository.ts `lockCampaigns`, messaging/lock-campaigns.ts).

export interface SlotClaim {
  campaignId: string;
  taskId: string;
  /** The reward and the judge fees the claim holds (decide.ts `reservationFor`). */
  hold: number;
  now: Date;
}

/**
 * The reservation's two conditional updates, campaign then task (built, not run: the SQL is
 * checked in as a snapshot, `__snapshots__/claim-reservation.sql`). The first holds the reward
 * and a quota unit of an active campaign that can still promise it; the second takes a free slot.
 */
export function reservationStatements(db: Db, claim: SlotClaim) {
  const budget = db
    .updateTable('campaigns')
    .set((eb) => ({
      reserved_amount: sql`reserved_amount + ${claim.hold}`,
      quota_taken: eb('quota_taken', '+', 1),
      updated_at: claim.now,
    }))
    .where('id', '=', claim.campaignId)
    .where('status', '=', 'active')
    .where(
      sql<boolean>`funded_amount - spent_amount - returned_amount - reserved_amount - owed_amount >= ${claim.hold}`,
    )
    .where((eb) => eb.or([eb('target_count', 'is', null), eb('quota_taken', '<', eb.ref('target_count'))]))
    .returning('id');
  const slot = db
    .updateTable('tasks')
    .set((eb) => ({ slots_taken: eb('slots_taken', '+', 1) }))
    .where('id', '=', claim.taskId)
    .where((eb) => eb('slots_taken', '<', eb.ref('max_submissions')))
    .returning('id');
  return { budget, slot };
}

/**
 * Takes one slot of a task for a claim: holds `hold` (reward and judge fees) of the campaign's budget and one unit of
 * its quota, then one slot of the task. Each step is one conditional update, so concurrent claims
 * queue on the row and never overshoot; on any refusal the caller rolls back.
 */
export async function reserveSlot(trx: Db, claim: SlotClaim): Promise<ReserveOutcome> {
  const { budget, slot } = reservationStatements(trx, claim);
  if (!(await budget.executeTakeFirst())) {
    const now = await trx
      .selectFrom('campaigns')
      .select(['status', 'target_count', 'quota_taken'])
      .where('id', '=', claim.campaignId)
      .executeTakeFirst();
    if (!now || now.status !== 'active') return 'campaign_not_active';
    if (now.target_count !== null && now.quota_taken >= now.target_count) return 'quota_reached';
    return 'budget_exhausted';
  }
  return (await slot.executeTakeFirst()) ? 'reserved' : 'task_full';
}

type Held = Pick<
  AssignmentRecord,
  'id' | 'task_id' | 'campaign_id' | 'reward_amount' | 'judge_fee_amount' | 'max_judges' | 'fee_hold_amount'
>;

/**
 * Applies what an assignment's transition does to its task's and campaign's counters, and to what
 * the assignment itself still holds for judge fees (`fee_hold_amount`).
 */
export async function applyTransition(
  trx: Db,
  assignment: Held,
  transition: AssignmentTransition,
  now: Date,
): Promise<void> {
  const reward = Number(assignment.reward_amount);
  const feeHold = Number(assignment.fee_hold_amount);
  const campaign = trx.updateTable('campaigns').where('id', '=', assignment.campaign_id);
  const task = trx.updateTable('tasks').where('id', '=', assignment.task_id);
  const holdFees = (amount: number) =>
    trx
      .updateTable('assignments')
      .set({ fee_hold_amount: amount, fee_hold_until: null })
      .where('id', '=', assignment.id)
      .execute();
  // The verdict's fees are on their way: what is left of the fee hold waits for them until `until`.
  const awaitFees = async (until: Date) => {
    if (feeHold > 0)
      await trx
        .updateTable('assignments')
        .set({ fee_hold_until: until })
        .where('id', '=', assignment.id)
        .execute();
  };
  const appeal = (state: AppealState) =>
    trx.updateTable('assignments').set({ appeal_state: state }).where('id', '=', assignment.id).execute();
  switch (transition.kind) {
    case 'freed':
    case 'rejected': {
      // A claim given back or timed out had no work judged: its fee hold is free with it. A rejected
      // submission was judged: its fee hold waits for the verdict's fees (decide.ts `FEE_NEWS_GRACE_MS`).
      const rejected = transition.kind === 'rejected' ? 1 : 0;
      const freed = transition.kind === 'rejected' ? reward : reward + feeHold;
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount - ${freed}`,
          quota_taken: eb('quota_taken', '-', 1),
          rejected_count: eb('rejected_count', '+', rejected),
          updated_at: now,
        }))
        .execute();
      await task
        .set((eb) => ({
          slots_taken: eb('slots_taken', '-', 1),
          rejected_count: eb('rejected_count', '+', rejected),
        }))
        .execute();
      if (transition.kind === 'rejected') await awaitFees(transition.feesAwaitedUntil);
      else await holdFees(0);
      return;
    }
    case 'submitted':
      await campaign
        .set((eb) => ({ received_count: eb('received_count', '+', 1), updated_at: now }))
        .execute();
      await task.set((eb) => ({ submitted_count: eb('submitted_count', '+', 1) })).execute();
      return;
    case 'late-submitted': {
      // The ended claim freed everything; the late work holds its reward and judging again.
      const fees = assignment.max_judges * Number(assignment.judge_fee_amount);
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount + ${reward + fees}`,
          quota_taken: eb('quota_taken', '+', 1),
          received_count: eb('received_count', '+', 1),
          updated_at: now,
        }))
        .execute();
      await task
        .set((eb) => ({
          slots_taken: eb('slots_taken', '+', 1),
          submitted_count: eb('submitted_count', '+', 1),
        }))
        .execute();
      await holdFees(fees);
      return;
    }
    case 'approved':
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount - ${reward}`,
          owed_amount: sql`owed_amount + ${transition.owed}`,
          approved_count: eb('approved_count', '+', 1),
          updated_at: now,
        }))
        .execute();
      await task.set((eb) => ({ approved_count: eb('approved_count', '+', 1) })).execute();
      await awaitFees(transition.feesAwaitedUntil);
      return;
    case 'fees-unused':
      await campaign.set({ reserved_amount: sql`reserved_amount - ${feeHold}`, updated_at: now }).execute();
      await holdFees(0);
      return;
    case 'appeal-held':
      // Appeals are decided by an admin: no judge fees to hold, only what approval would pay.
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount + ${reward}`,
          quota_taken: eb('quota_taken', '+', 1),
          updated_at: now,
        }))
        .execute();
      await task.set((eb) => ({ slots_taken: eb('slots_taken', '+', 1) })).execute();
      await appeal('held');
      return;
    case 'appeal-released':
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount - ${reward}`,
          quota_taken: eb('quota_taken', '-', 1),
          updated_at: now,
        }))
        .execute();
      await task.set((eb) => ({ slots_taken: eb('slots_taken', '-', 1) })).execute();
      await appeal('decided');
      return;
    case 'overturned':
      await campaign
        .set((eb) => ({
          reserved_amount: sql`reserved_amount - ${reward}`,
          owed_amount: sql`owed_amount + ${transition.owed}`,
          approved_count: eb('approved_count', '+', 1),
          rejected_count: eb('rejected_count', '-', 1),
          updated_at: now,
        }))
        .execute();
      await task
        .set((eb) => ({
          approved_count: eb('approved_count', '+', 1),
          rejected_count: eb('rejected_count', '-', 1),
        }))
        .execute();
      await appeal('decided');
      return;
    case 'appeal-decided':
      await appeal('decided');
      return;
  }
}

/**
 * A judge's fee QC counted for the work done under `assignment`: the fee is owed (the ledger pays
 * it from the escrow), and what the claim held for fees shrinks by as much as it still holds, so
 * the fee is not counted twice. The hold outlives the verdict until its fees are booked or their
 * time to arrive has passed (`fee_hold_until`, `releaseUnusedFeeHolds`), so a fee handled after
 * the approval or rejection still comes out of it. A fee beyond the hold (a second round of judging
 * after a revision, a re-judging, a fee later than its time) is owed all the same; the campaign then
 * pauses itself if it can no longer promise the next claim.
 */
export async function recordFeeEarned(
  trx: Db,
  campaignId: string,
  assignment: Pick<AssignmentRecord, 'id' | 'fee_hold_amount'> | undefined,
  fee: number,
  now: Date,
): Promise<void> {
  const held = assignment ? Math.min(fee, Number(assignment.fee_hold_amount)) : 0;
  await trx
    .updateTable('campaigns')
    .set({
      reserved_amount: sql`reserved_amount - ${held}`,
      owed_amount: sql`owed_amount + ${fee}`,
      updated_at: now,
    })
    .where('id', '=', campaignId)
    .execute();
  if (assignment && held > 0) {
    await trx
      .updateTable('assignments')
      .set({
        fee_hold_amount: sql`fee_hold_amount - ${held}`,
        fee_hold_until: sql`case when fee_hold_amount = ${held} then null else fee_hold_until end`,
      })
      .where('id', '=', assignment.id)
      .execute();
  }
}

/**
 * Verdicts whose claims still hold fees after the fees' time to arrive passed at `now`, oldest
 * first (`assignments_fee_hold_due`); those the job `parkedBy` parked are left out.
 */
export async function dueFeeHolds(db: Db, now: Date, limit: number, parkedBy?: string) {
  return db
    .selectFrom('assignments')
    .select(['id', 'campaign_id'])
    .where('fee_hold_amount', '>', 0)
    .where('fee_hold_until', '<=', now)
    .$if(parkedBy !== undefined, (q) => q.where(notParked(parkedBy!, 'assignments.id')))
    .orderBy('fee_hold_until')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** One of `dueFeeHolds`, locked and checked again (a fee may have used the hold since the scan). */
export async function lockDueFeeHold(trx: Db, id: string, now: Date): Promise<AssignmentRecord | undefined> {
  return trx
    .selectFrom('assignments')
    .selectAll()
    .where('id', '=', id)
    .where('fee_hold_amount', '>', 0)
    .where('fee_hold_until', '<=', now)
    .forUpdate()
    .executeTakeFirst();
}
