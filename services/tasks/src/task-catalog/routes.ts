import { languageTag, taskDifficulties, taskTypes } from '@tessera/contracts';
import {
  assertCompanyAccess,
  type HttpApp,
  idempotencyHeaders,
  idParams,
  isUuid,
  moneySchema,
  positiveMoney,
  type Principal,
  principalOf,
  refuse,
  requireRole,
  runOnce,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { findCampaign } from '../campaigns/index.ts';
import type { RouteDeps } from '../context.ts';
import type { TasksDB } from '../db/schema.ts';
import { DEFAULT_MIN_TRUST_SCORE, isInvited } from '../eligibility/index.ts';
import { taskAccess } from './access.ts';
import { hasOneDecimal } from './content.ts';
import { archiveTask, checkTask, editTask, publishTask, taskNotFound } from './handle.ts';
import {
  companyTaskSchema,
  companyView,
  contributorTaskSchema,
  contributorView,
  viewForCaller,
} from './present.ts';
import { findTask, hasAssignment, type TaskRecord } from './repository.ts';

const tags = ['tasks'];
const security = [{ bearerAuth: [] }];

/** Everything a company writes about a task and may later replace (PUT). */
const editableFields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().trim().min(1).max(10_000),
  /** Checked against the task type's schema (contracts' taskInputSchemas): 422 INVALID_TASK_INPUT. */
  input: z.record(z.string(), z.unknown()),
  difficulty: z.enum(taskDifficulties).default('medium'),
  reward: positiveMoney,
  xp_reward: z.number().int().min(0).max(1_000_000).default(10),
  /** Free text such as "15-30 minutes". */
  time_estimate: z.string().trim().min(1).max(50).nullable().optional(),
  max_submissions: z.number().int().min(1).max(100_000).default(1000),
  judges_required: z.number().int().min(1).max(15).default(3),
  /** Each review counted toward a verdict earns this; absent: the campaign's judge fee. */
  judge_fee: moneySchema.optional(),
  /** The most judges QC may ask before it escalates; at least judges_required. */
  max_judges: z.number().int().min(1).max(15).default(5),
  min_trust_score: z
    .number()
    .min(0)
    .max(10)
    .refine(hasOneDecimal, 'must have at most one decimal')
    .default(DEFAULT_MIN_TRUST_SCORE),
  min_level: z.number().int().min(1).max(1000).default(1),
  /** BCP 47 tags; kept as primary subtags, lower case (`es-MX` → `es`). */
  required_languages: z.array(languageTag.max(35)).max(20).default([]),
  /** ISO 3166-1 alpha-2 codes; kept upper case. */
  regions: z
    .array(z.string().regex(/^[A-Za-z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as "NG"'))
    .max(250)
    .default([]),
  is_priority: z.boolean().default(false),
  deadline: timestamp.nullable().optional(),
  /** How long a claim lasts; the service default (TASKS_DEFAULT_CLAIM_TTL_SECONDS) when absent. */
  claim_ttl_seconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .optional(),
  is_golden: z.boolean().default(false),
  /** The known answer of a golden task (image, validation, linguasense, rlhf). */
  golden_answer: z.record(z.string(), z.unknown()).nullable().optional(),
};

const createBody = z.strictObject({
  campaign_id: uuidParam,
  task_type: z.enum(taskTypes),
  ...editableFields,
});
const updateBody = z.strictObject({
  ...editableFields,
  /** Absent: unchanged. Archive with DELETE. */
  status: z.enum(['active', 'paused']).optional(),
});

const taskResponse = z.object({ task: companyTaskSchema });
const anyTaskResponse = z.object({ task: viewForCaller(contributorTaskSchema) });

function isContributor(principal: Principal): boolean {
  return principal.role === 'contributor' && principal.companyId === undefined;
}

/** A contributor sees a task that is open to them, or one they have claimed before. */
async function contributorMaySee(db: Kysely<TasksDB>, task: TaskRecord, userId: string): Promise<boolean> {
  if (!isUuid(userId)) return false;
  const me = userId.toLowerCase();
  if (task.status === 'active') {
    const campaign = await findCampaign(db, task.campaign_id);
    // A campaign in draft, funding, paused or ended is not open to contributors: its tasks answer
    // like unknown ids (only a contributor holding an assignment still reads its task, below).
    if (campaign?.status === 'active' && (!campaign.is_private || (await isInvited(db, campaign.id, me)))) {
      return true;
    }
  }
  return hasAssignment(db, task.id, me);
}

export function taskRoutes(app: HttpApp, deps: RouteDeps): void {
  const { db, config, clock } = deps;
  const defaultClaimTtl = config.TASKS_DEFAULT_CLAIM_TTL_SECONDS;

  /** The task, if the caller may change it: 404 if it may not even read it, 403 if only read. */
  async function writableTask(principal: Principal, id: string): Promise<TaskRecord> {
    const task = await findTask(db, id);
    if (!task) throw taskNotFound();
    await assertCompanyAccess(db, principal, task.company_id, 'write', taskAccess, taskNotFound());
    return task;
  }

  app.post(
    '/api/v1/tasks',
    {
      preHandler: requireRole('company', 'admin'),
      schema: {
        tags,
        summary: "Publish a task in a campaign (the company's managers, its tasks:write keys, admins)",
        security,
        headers: idempotencyHeaders,
        body: createBody,
        response: { 201: taskResponse },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body;
      const now = clock();
      const checked = checkTask(body.task_type, body, now);
      if (!isUuid(principal.userId)) throw refuse.forbidden('This token does not name a user or an API key.');
      const call = {
        principalId: principal.userId,
        operation: 'create-task',
        key: request.headers['idempotency-key'],
        body,
      };
      const created = await runOnce(db, call, now, 201, async (trx) => {
        const task = await publishTask(
          trx,
          principal,
          { campaignId: body.campaign_id, type: body.task_type, fields: body, checked, defaultClaimTtl },
          now,
        );
        return { task: companyView(task) };
      });
      // A replay answers what the first request did (a creation: always 201).
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/tasks/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          "A task: the company's view (golden answer included) to its members, keys and admins; the contributor view to contributors",
        security,
        params: idParams,
        response: { 200: anyTaskResponse },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const task = await findTask(db, request.params.id);
      if (!task) throw taskNotFound();
      if (isContributor(principal)) {
        if (!(await contributorMaySee(db, task, principal.userId))) throw taskNotFound();
        return { task: contributorView(task) };
      }
      await assertCompanyAccess(db, principal, task.company_id, 'read', taskAccess, taskNotFound());
      return { task: companyView(task) };
    },
  );

  app.put(
    '/api/v1/tasks/:id',
    {
      preHandler: requireRole('company', 'admin'),
      schema: {
        tags,
        summary: "Replace a task's editable fields; pause or resume it",
        description:
          'Claims already made keep the reward and XP they were promised: each assignment stores its own.',
        security,
        params: idParams,
        body: updateBody,
        response: { 200: taskResponse },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const body = request.body;
      const existing = await writableTask(principal, request.params.id);
      const now = clock();
      const checked = checkTask(existing.task_type, body, now, existing.deadline);
      const change = { fields: body, checked, status: body.status, defaultClaimTtl };
      const task = await db.transaction().execute((trx) => editTask(trx, existing, change, now));
      return { task: companyView(task) };
    },
  );

  app.delete(
    '/api/v1/tasks/:id',
    {
      preHandler: requireRole('company', 'admin'),
      schema: {
        tags,
        summary: 'Archive a task: it takes no more claims (claims already made may still be submitted)',
        description: 'Nothing is deleted. Archiving an archived task changes nothing.',
        security,
        params: idParams,
        response: { 200: taskResponse },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const existing = await writableTask(principal, request.params.id);
      const task = await db.transaction().execute((trx) => archiveTask(trx, existing, clock()));
      return { task: companyView(task) };
    },
  );
}
