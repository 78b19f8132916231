import {
  cursorParam,
  encodeCursor,
  type HttpApp,
  idempotencyHeaders,
  idParams,
  isUuid,
  limitParam,
  paginate,
  type Principal,
  principalOf,
  refuse,
  requireRole,
  runOnce,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { RouteDeps } from '../context.ts';
import { ASSIGNMENT_STATUSES } from './decide.ts';
import { afterClaimRefused, assignmentNotFound, claimTask, releaseClaim } from './handle.ts';
import { assignmentSchema, presentAssignment } from './present.ts';
import { findAssignment, listAssignments } from './repository.ts';

const tags = ['assignments'];
const security = [{ bearerAuth: [] }];

/** The caller as a contributor id (lower case), or null for tokens that cannot own assignments. */
function ownerIdOf(principal: Principal): string | null {
  if (principal.companyId !== undefined || !isUuid(principal.userId)) return null;
  return principal.userId.toLowerCase();
}

export function assignmentRoutes(app: HttpApp, deps: RouteDeps): void {
  const { db, clock } = deps;

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
        headers: idempotencyHeaders,
        response: { 201: z.object({ assignment: assignmentSchema }) },
      },
    },
    async (request, reply) => {
      const contributorId = ownerIdOf(principalOf(request));
      if (contributorId === null) throw refuse.forbidden('Only contributors claim tasks.');
      const command = { taskId: request.params.id, contributorId, now: clock() };
      const call = {
        principalId: contributorId,
        operation: 'claim-task',
        key: request.headers['idempotency-key'],
        body: { task_id: command.taskId },
      };
      try {
        const created = await runOnce(db, call, command.now, 201, async (trx) => ({
          assignment: presentAssignment(await claimTask(trx, command)),
        }));
        return reply.code(201).send(created);
      } catch (error) {
        await afterClaimRefused(db, command, error, request.log);
        throw error;
      }
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
      const contributorId = ownerIdOf(principalOf(request));
      if (contributorId === null) throw assignmentNotFound();
      const assignment = await db
        .transaction()
        .execute((trx) =>
          releaseClaim(trx, { assignmentId: request.params.id, contributorId, now: clock() }),
        );
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
          status: z.enum(ASSIGNMENT_STATUSES).optional(),
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
      const { page, next } = paginate(rows, limit, (row) =>
        encodeCursor({ createdAt: row.claimed_at, id: row.id }),
      );
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
