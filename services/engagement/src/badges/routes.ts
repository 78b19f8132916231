import {
  cursorParam,
  type HttpApp,
  idempotencyHeaders,
  idParams,
  isUuid,
  limitParam,
  moneySchema,
  paginate,
  positiveMoney,
  principalOf,
  requireRole,
  runOnce,
  safeText,
  timestamp,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { EngagementContext } from '../context.ts';
import { criteriaSchema } from './criteria.ts';
import { changeBadge, createBadge } from './handle.ts';
import { type Badge, listBadges, unlockTimes } from './repository.ts';

const adminTags = ['badges (admin)'];
const tags = ['badges'];
const security = [{ bearerAuth: [] }];

const name = safeText(120).pipe(z.string().min(1));
const description = safeText(2_000, { multiline: true });

const createBody = z.strictObject({
  code: z.string().regex(/^[a-z0-9_]{2,40}$/, 'must be 2 to 40 of a-z, 0-9 and _'),
  name,
  description: description.default(''),
  criteria: criteriaSchema,
  xp_bonus: z.number().int().min(0).max(1_000_000),
  money_bonus: positiveMoney.nullable().default(null),
  active: z.boolean().default(true),
});

const patchBody = z
  .strictObject({
    active: z.boolean().optional(),
    name: name.optional(),
    description: description.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'change at least one field' });

const badgeSchema = z.object({
  id: z.uuid(),
  code: z.string(),
  name: z.string(),
  description: z.string(),
  criteria: criteriaSchema,
  xp_bonus: z.number().int(),
  money_bonus: moneySchema.nullable(),
  active: z.boolean(),
  created_at: timestamp,
});

const present = (badge: Badge) => ({
  id: badge.id,
  code: badge.code,
  name: badge.name,
  description: badge.description,
  criteria: badge.criteria,
  xp_bonus: badge.xp_bonus,
  money_bonus:
    badge.money_bonus_amount !== null && badge.money_bonus_currency !== null
      ? { amount: Number(badge.money_bonus_amount), currency: badge.money_bonus_currency }
      : null,
  active: badge.active,
  created_at: badge.created_at.toISOString(),
});

const listQuery = z.strictObject({ cursor: cursorParam.optional(), limit: limitParam() });

/** Admins define badges as data; everyone sees the active ones, and which of them they unlocked. */
export function badgeRoutes(app: HttpApp, { db, clock }: EngagementContext): void {
  app.post(
    '/api/v1/admin/badges',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary: 'Define a badge (409 BADGE_CODE_TAKEN)',
        description:
          'Unlocked once per user when `criteria` is met: `tasks_completed` (optionally of one `task_type`), ' +
          '`reviews_done`, `earnings_total` (minor units, one currency), `streak_days`, `trust_score`, or ' +
          '`time_of_day` (approved work received between `from_hour` and `to_hour`, local time). Grants ' +
          '`xp_bonus`, and `money_bonus` paid from promotions.',
        security,
        headers: idempotencyHeaders,
        body: createBody,
        response: { 201: z.object({ badge: badgeSchema }) },
      },
    },
    async (request, reply) => {
      const now = clock();
      const call = {
        principalId: principalOf(request).userId.toLowerCase(),
        operation: 'create-badge',
        key: request.headers['idempotency-key'],
        body: request.body,
      };
      const created = await runOnce(db, call, now, 201, async (trx) => ({
        badge: present(await createBadge(trx, request.body, now)),
      }));
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/admin/badges',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary: 'Every badge, active or not, newest first',
        security,
        querystring: listQuery,
        response: { 200: z.object({ badges: z.array(badgeSchema), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      const rows = await listBadges(db, { ...(cursor ? { after: cursor } : {}), limit: limit + 1 });
      const { page, next } = paginate(rows, limit);
      return { badges: page.map(present), next_cursor: next };
    },
  );

  app.patch(
    '/api/v1/admin/badges/:id',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary: 'Rename a badge or switch it on or off (404 BADGE_NOT_FOUND)',
        description:
          'Its criteria and bonuses never change: those who unlocked it did so under those terms. Define a new badge instead.',
        security,
        params: idParams,
        body: patchBody,
        response: { 200: z.object({ badge: badgeSchema }) },
      },
    },
    async (request) => ({ badge: present(await changeBadge(db, request.params.id, request.body)) }),
  );

  app.delete(
    '/api/v1/admin/badges/:id',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary:
          'Retire a badge: it is switched off, and those who unlocked it keep it (404 BADGE_NOT_FOUND)',
        security,
        params: idParams,
        response: { 200: z.object({ badge: badgeSchema }) },
      },
    },
    async (request) => ({ badge: present(await changeBadge(db, request.params.id, { active: false })) }),
  );

  app.get(
    '/api/v1/badges',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'The badges one can unlock, and when you unlocked each (null: not yet)',
        security,
        querystring: listQuery,
        response: {
          200: z.object({
            badges: z.array(
              badgeSchema
                .omit({ active: true, created_at: true })
                .extend({ unlocked_at: timestamp.nullable() }),
            ),
            next_cursor: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      const principal = principalOf(request);
      const person = principal.companyId === undefined && isUuid(principal.userId);
      const [rows, unlocked] = await Promise.all([
        listBadges(db, { ...(cursor ? { after: cursor } : {}), limit: limit + 1, activeOnly: true }),
        person ? unlockTimes(db, principal.userId.toLowerCase()) : new Map<string, Date>(),
      ]);
      const { page, next } = paginate(rows, limit);
      return {
        badges: page.map((badge) => {
          const { active: _active, created_at: _created, ...shown } = present(badge);
          return { ...shown, unlocked_at: unlocked.get(badge.id)?.toISOString() ?? null };
        }),
        next_cursor: next,
      };
    },
  );
}
