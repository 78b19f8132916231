import { randomUUID } from 'node:crypto';
import { buildEvent, currencyCode } from '@tessera/contracts';
import {
  appendToOutbox,
  claimIdempotencyKey,
  type HttpApp,
  HttpProblem,
  type Principal,
  principalOf,
  recordIdempotentResponse,
  requireRole,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  type AssignmentRow,
  type ClaimTarget,
  findAssignment,
  findClaimTarget,
  findLiveAssignment,
  insertAssignment,
  isDuplicateClaim,
  listAssignments,
  moveAssignment,
} from '../db/assignments.ts';
import { applyTransition, reconcileCampaign, reserveSlot } from '../db/campaign-money.ts';
import type { TasksDB } from '../db/schema.ts';
import { isInvited, standingOf } from '../db/contributors.ts';
import { type IneligibleReason, ineligibility } from '../domain/eligibility.ts';
import { cursorParam, limitParam, paginate } from './cursor.ts';
import type { RouteDeps } from './deps.ts';

const tags = ['assignments'];
const security = [{ bearerAuth: [] }];

const statuses = ['active', 'submitted', 'approved', 'rejected', 'released', 'expired'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const idParams = z.strictObject({ id: z.uuid().transform((id) => id.toLowerCase()) });

const timestamp = z.iso.datetime({ offset: true });

export const assignmentSchema = z.object({
  id: z.uuid(),
  task_id: z.uuid(),
  campaign_id: z.uuid(),
  contributor_id: z.uuid(),
  status: z.enum(statuses),
  /** Fixed at claim time: a later change to the task does not change it. */
  reward: z.object({ amount: z.number().int().nonnegative(), currency: currencyCode }),
  xp_reward: z.number().int().nonnegative(),
  submission_id: z.uuid().nullable(),
  claimed_at: timestamp,
  expires_at: timestamp,
  ended_at: timestamp.nullable(),
  settled_at: timestamp.nullable(),
});

type AssignmentView = z.infer<typeof assignmentSchema>;

export function presentAssignment(row: AssignmentRow): AssignmentView {
  return {
    id: row.id,
    task_id: row.task_id,
    campaign_id: row.campaign_id,
    contributor_id: row.contributor_id,
    status: row.status,
    reward: { amount: Number(row.reward_amount), currency: row.currency },
    xp_reward: row.xp_reward,
    submission_id: row.submission_id,
    claimed_at: row.claimed_at.toISOString(),
    expires_at: row.expires_at.toISOString(),
    ended_at: row.ended_at?.toISOString() ?? null,
    settled_at: row.settled_at?.toISOString() ?? null,
  };
}

const REASON_TEXT: Record<IneligibleReason, string> = {
  ACCOUNT_NOT_ACTIVE: 'your account is not active',
  LEVEL_TOO_LOW: 'your level is below the minimum',
  TRUST_TOO_LOW: 'your trust score is below the minimum',
  LANGUAGE_MISMATCH: 'you do not speak a required language',
  REGION_MISMATCH: 'your country is not one of the task’s regions',
  NOT_INVITED: 'the campaign is private and you are not invited',
};

/** Why a task takes no claim now, whoever asks; null when it does. */
export function unavailability(target: ClaimTarget, now: Date): string | null {
  if (target.status !== 'active') return `The task is ${target.status}.`;
  if (target.deadline !== null && target.deadline <= now) return 'The task’s deadline has passed.';
  if (target.campaign_status !== 'active') return `The task’s campaign is ${target.campaign_status}.`;
  if (target.campaign_start_at !== null && target.campaign_start_at > now)
    return 'The task’s campaign has not started yet.';
  if (target.campaign_end_at !== null && target.campaign_end_at <= now)
    return 'The task’s campaign has ended.';
  return null;
}

const notFound = () => new HttpProblem(404, 'TASK_NOT_FOUND', 'No such task.');
const assignmentNotFound = () => new HttpProblem(404, 'ASSIGNMENT_NOT_FOUND', 'No such assignment.');

/** The caller as a contributor id (lower case), or null for tokens that cannot own assignments. */
function ownerIdOf(principal: Principal): string | null {
  if (principal.companyId !== undefined || !UUID.test(principal.userId)) return null;
  return principal.userId.toLowerCase();
}

type ClaimResponse = { status: number; body: { assignment: AssignmentView } };

export function assignmentRoutes(app: HttpApp, deps: RouteDeps): void {
  const { db } = deps;

  app.post(
    '/api/v1/tasks/:id/claim',
    {
      preHandler: requireRole('contributor'),
      schema: {
        tags,
        security,
        summary:
          'Claim one slot of a task until expires_at; the reward and XP are fixed now (contributors only)',
        params: idParams,
        // Loose: the other headers (authorization among them) must survive validation.
        headers: z.looseObject({
          'idempotency-key': z
            .string()
            .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 visible ASCII characters')
            .optional(),
        }),
        response: { 201: z.object({ assignment: assignmentSchema }) },
      },
    },
    async (request, reply) => {
      const contributorId = ownerIdOf(principalOf(request));
      if (contributorId === null) throw new HttpProblem(403, 'FORBIDDEN', 'Only contributors claim tasks.');
      const taskId = request.params.id;
      const key = request.headers['idempotency-key'];
      const idempotent = key ? { principalId: contributorId, operation: 'claim-task', key } : undefined;
      let campaignId: string | undefined;
      let response: ClaimResponse;
      try {
        response = await db.transaction().execute(async (trx) => {
          const now = new Date();
          if (idempotent) {
            const earlier = await claimIdempotencyKey(trx, { ...idempotent, body: { task_id: taskId } }, now);
            if (earlier) return earlier as ClaimResponse;
          }
          const target = await findClaimTarget(trx, taskId);
          if (!target) throw notFound();
          campaignId = target.campaign_id;
          await assertEligible(trx, target, contributorId);
          assertAvailable(target, now);
          if (await findLiveAssignment(trx, taskId, contributorId)) throw alreadyClaimed();

          const reward = Number(target.reward_amount);
          const outcome = await reserveSlot(trx, { campaignId: target.campaign_id, taskId, reward });
          switch (outcome) {
            case 'reserved':
              break;
            case 'task_full':
              throw new HttpProblem(409, 'TASK_FULL', 'Every slot of this task is taken.');
            case 'quota_reached':
              throw new HttpProblem(
                409,
                'CAMPAIGN_QUOTA_REACHED',
                'The campaign has as many claims and submissions as it asked for.',
              );
            case 'budget_exhausted':
              throw new HttpProblem(
                409,
                'CAMPAIGN_BUDGET_EXHAUSTED',
                'The campaign’s remaining budget cannot pay this task’s reward.',
              );
            case 'campaign_not_active':
              throw new HttpProblem(409, 'TASK_NOT_AVAILABLE', 'The task’s campaign is not active.');
          }
          // The reservation locked the campaign and task rows: what they say now is what holds.
          const locked = await findClaimTarget(trx, taskId);
          if (!locked) throw notFound();
          assertAvailable(locked, now);

          let assignment: AssignmentRow;
          try {
            assignment = await insertAssignment(trx, {
              id: randomUUID(),
              task_id: taskId,
              campaign_id: locked.campaign_id,
              contributor_id: contributorId,
              status: 'active',
              // Exactly what reserveSlot held, so the release of this claim frees the same amount
              // even if the task's reward changed in between.
              reward_amount: reward,
              currency: locked.currency,
              xp_reward: locked.xp_reward,
              claimed_at: now,
              expires_at: new Date(now.getTime() + locked.claim_ttl_seconds * 1000),
            });
          } catch (error) {
            if (isDuplicateClaim(error)) throw alreadyClaimed();
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
              reward: { amount: Number(assignment.reward_amount), currency: assignment.currency },
              xp_reward: assignment.xp_reward,
              expires_at: assignment.expires_at.toISOString(),
            },
            { subject: assignment.id },
          );
          await appendToOutbox(trx, [claimed]);
          // This claim may leave too little budget for the next one: the campaign pauses itself.
          await reconcileCampaign(trx, assignment.campaign_id, claimed);
          const created = { status: 201, body: { assignment: presentAssignment(assignment) } };
          if (idempotent) await recordIdempotentResponse(trx, idempotent, created);
          return created;
        });
      } catch (error) {
        if (error instanceof HttpProblem && error.code === 'CAMPAIGN_BUDGET_EXHAUSTED' && campaignId) {
          // The refused reservation was rolled back; the campaign still pauses itself if no open
          // task is affordable any more.
          const id = campaignId;
          await db
            .transaction()
            .execute((trx) => reconcileCampaign(trx, id))
            .catch((reconcileError: unknown) =>
              request.log.error({ err: reconcileError, campaign_id: id }, 'campaign reconcile failed'),
            );
        }
        throw error;
      }
      return reply.code(201).send(response.body);
    },
  );

  app.post(
    '/api/v1/assignments/:id/release',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'Give a claim back before submitting; its slot is free again (its contributor only)',
        params: idParams,
        response: { 200: z.object({ assignment: assignmentSchema }) },
      },
    },
    async (request) => {
      const ownerId = ownerIdOf(principalOf(request));
      if (ownerId === null) throw assignmentNotFound();
      const assignment = await db.transaction().execute(async (trx) => {
        // The row lock orders this release with the expiry job and submissions: one frees the slot.
        const current = await findAssignment(trx, request.params.id, { forUpdate: true });
        if (!current || current.contributor_id !== ownerId) throw assignmentNotFound();
        if (current.status !== 'active') {
          throw new HttpProblem(409, 'ASSIGNMENT_NOT_ACTIVE', `The assignment is ${current.status}.`);
        }
        const now = new Date();
        const released = await moveAssignment(trx, current.id, ['active'], {
          status: 'released',
          ended_at: now,
          settled_at: now,
        });
        if (!released) throw new HttpProblem(409, 'ASSIGNMENT_NOT_ACTIVE', 'The assignment is not active.');
        await applyTransition(trx, released, { kind: 'freed' });
        const event = buildEvent(
          'tasks.assignment.released.v1',
          {
            assignment_id: released.id,
            task_id: released.task_id,
            campaign_id: released.campaign_id,
            contributor_id: released.contributor_id,
          },
          { subject: released.id },
        );
        await appendToOutbox(trx, [event]);
        await reconcileCampaign(trx, released.campaign_id, event);
        return released;
      });
      return { assignment: presentAssignment(assignment) };
    },
  );

  app.get(
    '/api/v1/assignments',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'The caller’s own assignments, newest first, paged by cursor',
        querystring: z.strictObject({
          status: z.enum(statuses).optional(),
          cursor: cursorParam.optional(),
          limit: limitParam(20, 100),
        }),
        response: {
          200: z.object({ assignments: z.array(assignmentSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const ownerId = ownerIdOf(principalOf(request));
      if (ownerId === null) return { assignments: [], next_cursor: null };
      const { status, cursor, limit } = request.query;
      const rows = await listAssignments(db, {
        contributorId: ownerId,
        ...(status ? { status } : {}),
        ...(cursor ? { before: { claimedAt: cursor.createdAt, id: cursor.id } } : {}),
        limit: limit + 1,
      });
      const { page, next } = paginate(rows, limit, (row) => ({ createdAt: row.claimed_at, id: row.id }));
      return { assignments: page.map(presentAssignment), next_cursor: next };
    },
  );

  app.get(
    '/api/v1/assignments/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        security,
        summary: 'One assignment (its contributor, or an admin)',
        params: idParams,
        response: { 200: z.object({ assignment: assignmentSchema }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const assignment = await findAssignment(db, request.params.id);
      const isAdmin = principal.role === 'admin' && principal.companyId === undefined;
      if (!assignment || (!isAdmin && assignment.contributor_id !== ownerIdOf(principal))) {
        throw assignmentNotFound();
      }
      return { assignment: presentAssignment(assignment) };
    },
  );
}

function alreadyClaimed(): HttpProblem {
  return new HttpProblem(409, 'ALREADY_CLAIMED', 'You already hold a claim or a submission on this task.');
}

function assertAvailable(target: ClaimTarget, now: Date): void {
  const why = unavailability(target, now);
  if (why !== null) throw new HttpProblem(409, 'TASK_NOT_AVAILABLE', why);
}

async function assertEligible(
  db: Kysely<TasksDB>,
  target: ClaimTarget,
  contributorId: string,
): Promise<void> {
  const standing = await standingOf(db, contributorId);
  const invited = target.is_private ? await isInvited(db, target.campaign_id, contributorId) : false;
  const reasons = ineligibility(
    standing,
    {
      min_level: target.min_level,
      min_trust_score: Number(target.min_trust_score),
      required_languages: target.required_languages,
      regions: target.regions,
      is_private: target.is_private,
    },
    invited,
  );
  if (reasons.length > 0) {
    throw new HttpProblem(
      403,
      'TASK_NOT_ELIGIBLE',
      `You may not claim this task: ${reasons.map((reason) => REASON_TEXT[reason]).join('; ')}.`,
      { reasons },
    );
  }
}
