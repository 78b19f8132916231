import { buildEvent, reasonCode } from '@tessera/contracts';
import {
  appendToOutbox,
  decodeCursor,
  type HttpApp,
  idParams,
  limitParam,
  paginate,
  principalOf,
  refuse,
  requireRole,
  safeText,
} from '@tessera/service-kit';
import { z } from 'zod';
import { revokeUserSessions } from '../db/sessions.ts';
import { findUserById, listUsers, updateUser } from '../db/users.ts';
import { statusChange } from '../domain/access.ts';
import type { Identity } from '../runtime.ts';
import { presentUser, userSchema } from '../users/presenter.ts';
import { type FastifyRequest, userPrincipal } from './guards.ts';
import { bearer } from './schemas.ts';

const tags = ['admin'];

const userNotFound = () => refuse.notFound('No such account.', 'USER_NOT_FOUND');

const keySchema = z.object({
  kid: z.string(),
  state: z.enum(['pending', 'active', 'retired']),
  published: z.boolean(),
  created_at: z.string(),
  activates_at: z.string(),
  retired_at: z.string().nullable(),
});

export function registerAdminRoutes(app: HttpApp, identity: Identity): void {
  const { db } = identity;
  // requireRole's hook stays recognisable on its own, so the kit runs it before the body is parsed
  // or validated (onRequest); wrapped in another function it ran after validation, and a caller
  // without a token learnt 400 about the body before 401 (fuzz seed 506706).
  const admin = [
    requireRole('admin'),
    async (request: FastifyRequest) => {
      userPrincipal(request);
    },
  ];

  app.get(
    '/api/v1/admin/users',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Accounts, newest first, filtered by a search on email or name, role and status',
        security: bearer,
        querystring: z.strictObject({
          search: safeText(200).optional(),
          role: z.enum(['contributor', 'company', 'admin']).optional(),
          status: z.enum(['active', 'suspended', 'erased']).optional(),
          cursor: z.string().max(200).optional(),
          limit: limitParam(50, 100),
        }),
        response: { 200: z.object({ users: z.array(userSchema), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { search, role, status, cursor, limit } = request.query;
      const after = cursor ? decodeCursor(cursor) : null;
      if (cursor && !after) throw refuse.invalid('INVALID_CURSOR', 'The cursor is not one this list gave.');
      const rows = await listUsers(db, { search: search || undefined, role, status, after, take: limit + 1 });
      const { page, next } = paginate(rows, limit);
      return { users: page.map(presentUser), next_cursor: next };
    },
  );

  app.get(
    '/api/v1/admin/users/:id',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'One account',
        security: bearer,
        params: idParams,
        response: { 200: z.object({ user: userSchema }) },
      },
    },
    async (request) => {
      const user = await findUserById(db, request.params.id);
      if (!user) throw userNotFound();
      return { user: presentUser(user) };
    },
  );

  app.put(
    '/api/v1/admin/users/:id/status',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Suspend (with a reason) or reinstate an account; suspension ends its sessions',
        security: bearer,
        params: idParams,
        body: z
          .strictObject({
            status: z.enum(['active', 'suspended']),
            reason: safeText(500).min(1).optional(),
            /** What services receive instead of the free-text reason, e.g. `fraud`, `policy_violation`. */
            reason_code: reasonCode.optional(),
          })
          .refine((body) => body.status === 'active' || body.reason !== undefined, {
            error: 'a suspension needs a reason',
            path: ['reason'],
          }),
        response: { 200: z.object({ user: userSchema }) },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (id === principalOf(request).userId) {
        throw refuse.conflict('CANNOT_CHANGE_OWN_STATUS', 'An admin cannot suspend or reinstate themselves.');
      }
      const user = await db.transaction().execute(async (trx) => {
        const user = await findUserById(trx, id, { forUpdate: true });
        if (!user) throw userNotFound();
        const change = statusChange(user.status, request.body.status);
        if (change === 'erased') throw refuse.conflict('USER_ERASED', 'This account has been erased.');
        if (change === 'none') return user;
        const now = identity.clock();
        if (change === 'suspend') {
          const code = request.body.reason_code ?? 'admin_action';
          const updated = await updateUser(trx, id, {
            status: 'suspended',
            suspension_reason: request.body.reason ?? null,
            suspension_reason_code: code,
            updated_at: now,
          });
          await revokeUserSessions(trx, id, 'suspended', now, identity.config.ACCESS_TOKEN_TTL_S);
          await appendToOutbox(trx, [
            buildEvent('identity.user.suspended.v1', { user_id: id, reason_code: code }, { subject: id }),
          ]);
          return updated;
        }
        const updated = await updateUser(trx, id, {
          status: 'active',
          suspension_reason: null,
          suspension_reason_code: null,
          updated_at: now,
        });
        await appendToOutbox(trx, [
          buildEvent('identity.user.reinstated.v1', { user_id: id }, { subject: id }),
        ]);
        return updated;
      });
      return { user: presentUser(user) };
    },
  );

  app.get(
    '/api/v1/admin/identity/signing-keys',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Signing keys and where each is in its lifecycle',
        security: bearer,
        response: { 200: z.object({ keys: z.array(keySchema) }) },
      },
    },
    async () => {
      await identity.keys.reload();
      return { keys: identity.keys.describe() };
    },
  );

  app.post(
    '/api/v1/admin/identity/signing-keys/rotate',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Create the next signing key; the current one retires when it starts signing',
        security: bearer,
        body: z.strictObject({ lead_seconds: z.number().int().min(0).max(86_400).optional() }).default({}),
        response: { 201: z.object({ kid: z.string(), keys: z.array(keySchema) }) },
      },
    },
    async (request, reply) => {
      const kid = await identity.keys.rotate({ leadS: request.body.lead_seconds });
      return reply.code(201).send({ kid: kid!, keys: identity.keys.describe() });
    },
  );
}
