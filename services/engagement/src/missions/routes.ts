import {
  cursorParam,
  type HttpApp,
  idempotencyHeaders,
  idParams,
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
import { personOf } from '../users/index.ts';
import { criteriaSchema } from './criteria.ts';
import { changeMission, createMission, missionsToday } from './handle.ts';
import { listMissions, type Mission } from './repository.ts';

const adminTags = ['missions (admin)'];
const tags = ['missions'];
const security = [{ bearerAuth: [] }];

const day = z.iso.date();
const title = safeText(120).pipe(z.string().min(1));
const description = safeText(2_000, { multiline: true });

const createBody = z.strictObject({
  code: z.string().regex(/^[a-z0-9_]{2,40}$/, 'must be 2 to 40 of a-z, 0-9 and _'),
  title,
  description: description.default(''),
  criteria: criteriaSchema,
  xp_reward: z.number().int().min(0).max(1_000_000),
  money_reward: positiveMoney.nullable().default(null),
  active: z.boolean().default(true),
  starts_on: day.nullable().default(null),
  ends_on: day.nullable().default(null),
});

const patchBody = z
  .strictObject({
    active: z.boolean().optional(),
    title: title.optional(),
    description: description.optional(),
    ends_on: day.nullable().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'change at least one field' });

const missionSchema = z.object({
  id: z.uuid(),
  code: z.string(),
  title: z.string(),
  description: z.string(),
  criteria: criteriaSchema,
  xp_reward: z.number().int(),
  money_reward: moneySchema.nullable(),
  active: z.boolean(),
  starts_on: day.nullable(),
  ends_on: day.nullable(),
  created_at: timestamp,
});

const present = (mission: Mission) => ({
  id: mission.id,
  code: mission.code,
  title: mission.title,
  description: mission.description,
  criteria: mission.criteria,
  xp_reward: mission.xp_reward,
  money_reward:
    mission.money_reward_amount !== null && mission.money_reward_currency !== null
      ? { amount: mission.money_reward_amount, currency: mission.money_reward_currency }
      : null,
  active: mission.active,
  starts_on: mission.starts_on,
  ends_on: mission.ends_on,
  created_at: mission.created_at.toISOString(),
});

const todaySchema = z.object({
  /** The caller's local day the missions and progress are for. */
  day,
  missions: z.array(
    missionSchema.omit({ active: true, starts_on: true, ends_on: true, created_at: true }).extend({
      /** How far the caller got today (at most `count`). */
      progress: z.number().int().nonnegative(),
      count: z.number().int().positive(),
      completed_at: timestamp.nullable(),
    }),
  ),
});

/** Admins define daily missions; everyone sees today's with their own progress. */
export function missionRoutes(app: HttpApp, { db, clock }: EngagementContext): void {
  app.post(
    '/api/v1/admin/missions',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary: 'Define a daily mission (409 MISSION_CODE_TAKEN, 422 MISSION_DATES_INVALID)',
        description:
          'A mission counts, per local day of each user, approved submissions (`tasks_completed`, of one ' +
          '`task_type` or any) or reviews that counted (`reviews_done`); reaching `count` earns `xp_reward` ' +
          'and `money_reward` (paid from promotions) once that day.',
        security,
        headers: idempotencyHeaders,
        body: createBody,
        response: { 201: z.object({ mission: missionSchema }) },
      },
    },
    async (request, reply) => {
      const admin = principalOf(request).userId.toLowerCase();
      const now = clock();
      const call = {
        principalId: admin,
        operation: 'create-mission',
        key: request.headers['idempotency-key'],
        body: request.body,
      };
      const created = await runOnce(db, call, now, 201, async (trx) => ({
        mission: present(await createMission(trx, { draft: request.body, createdBy: admin, now })),
      }));
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/admin/missions',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary: 'Every mission, newest first',
        security,
        querystring: z.strictObject({ cursor: cursorParam.optional(), limit: limitParam() }),
        response: { 200: z.object({ missions: z.array(missionSchema), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      const rows = await listMissions(db, { ...(cursor ? { after: cursor } : {}), limit: limit + 1 });
      const { page, next } = paginate(rows, limit);
      return { missions: page.map(present), next_cursor: next };
    },
  );

  app.patch(
    '/api/v1/admin/missions/:id',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: adminTags,
        summary: 'Switch a mission on or off, retitle it, or move its end (404 MISSION_NOT_FOUND)',
        description:
          'What it counts and rewards never changes: a mission someone has completed keeps the terms it was ' +
          'completed under. Define a new mission instead.',
        security,
        params: idParams,
        body: patchBody,
        response: { 200: z.object({ mission: missionSchema }) },
      },
    },
    async (request) => {
      const mission = await db
        .transaction()
        .execute((trx) => changeMission(trx, request.params.id, request.body));
      return { mission: present(mission) };
    },
  );

  app.get(
    '/api/v1/missions',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "Today's missions (today in your time zone) and how far you got",
        security,
        response: { 200: todaySchema },
      },
    },
    async (request) => {
      const today = await missionsToday(db, personOf(request), clock());
      return {
        day: today.day,
        missions: today.missions.map(({ mission, progress, completed_at }) => ({
          id: mission.id,
          code: mission.code,
          title: mission.title,
          description: mission.description,
          criteria: mission.criteria,
          xp_reward: mission.xp_reward,
          money_reward: present(mission).money_reward,
          progress: Math.min(progress, mission.criteria.count),
          count: mission.criteria.count,
          completed_at: completed_at?.toISOString() ?? null,
        })),
      };
    },
  );
}
