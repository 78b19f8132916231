import { randomUUID } from 'node:crypto';
import {
  buildEvent,
  currencyCode,
  languageTag,
  type TaskInput,
  type TaskType,
  taskDifficulties,
  taskTypes,
  type TesseraEvent,
} from '@tessera/contracts';
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
import { reconcileCampaign } from '../db/campaign-money.ts';
import type { TasksDB } from '../db/schema.ts';
import {
  type CampaignRow,
  companyTaskSchema,
  companyView,
  contributorTaskSchema,
  contributorView,
  findCampaign,
  findTask,
  hasAssignment,
  insertTask,
  lockCampaign,
  lockTask,
  type TaskRow,
  taskSnapshot,
  updateTask,
} from '../db/tasks.ts';
import { isInvited } from '../db/contributors.ts';
import {
  canTransition,
  checkGolden,
  hasOneDecimal,
  isClosed,
  normaliseLanguages,
  normaliseRegions,
  parseTaskInput,
  type RuleResult,
  statusChange,
} from '../domain/task-rules.ts';
import { assertCompanyAccess, companyAccess } from './access.ts';
import type { RouteDeps } from './deps.ts';

const tags = ['tasks'];
const security = [{ bearerAuth: [] }];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const uuid = z.uuid().transform((id) => id.toLowerCase());
const idParams = z.strictObject({ id: uuid });

/** Money a company offers: integer minor units, positive, and an ISO 4217 code; never a float. */
const reward = z.strictObject({
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  currency: currencyCode,
});

/** Everything a company writes about a task and may later replace (PUT). */
const editableFields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().trim().min(1).max(10_000),
  /** Checked against the task type's schema (contracts' taskInputSchemas): 422 INVALID_TASK_INPUT. */
  input: z.record(z.string(), z.unknown()),
  difficulty: z.enum(taskDifficulties).default('medium'),
  reward,
  xp_reward: z.number().int().min(0).max(1_000_000).default(10),
  /** Free text such as "15-30 minutes". */
  time_estimate: z.string().trim().min(1).max(50).nullable().optional(),
  max_submissions: z.number().int().min(1).max(100_000).default(1000),
  judges_required: z.number().int().min(1).max(15).default(3),
  min_trust_score: z
    .number()
    .min(0)
    .max(10)
    .refine(hasOneDecimal, 'must have at most one decimal')
    .default(5),
  min_level: z.number().int().min(1).max(1000).default(1),
  /** BCP 47 tags; kept as primary subtags, lower case (`es-MX` → `es`). */
  required_languages: z.array(languageTag.max(35)).max(20).default([]),
  /** ISO 3166-1 alpha-2 codes; kept upper case. */
  regions: z
    .array(z.string().regex(/^[A-Za-z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as "NG"'))
    .max(250)
    .default([]),
  is_priority: z.boolean().default(false),
  deadline: z.iso.datetime({ offset: true }).nullable().optional(),
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

const createBody = z.strictObject({ campaign_id: uuid, task_type: z.enum(taskTypes), ...editableFields });
const updateBody = z.strictObject({
  ...editableFields,
  /** Absent: unchanged. Archive with DELETE. */
  status: z.enum(['active', 'paused']).optional(),
});
type EditableBody = z.infer<typeof updateBody>;

const idempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 visible ASCII characters')
    .optional(),
});

const taskResponse = z.object({ task: companyTaskSchema });
/** The company view first: a contributor view lacks its fields, so it can never match it. */
const anyTaskResponse = z.object({ task: z.union([companyTaskSchema, contributorTaskSchema]) });

const campaignNotFound = () => new HttpProblem(404, 'CAMPAIGN_NOT_FOUND', 'No such campaign.');
const taskNotFound = () => new HttpProblem(404, 'TASK_NOT_FOUND', 'No such task.');

/** What a rule refused, as a 4xx: 422 for content, 409 for state. */
function orThrow<T>(result: RuleResult<T>): T {
  if (result.ok) return result.value;
  const status = result.code === 'TASK_CLOSED' ? 409 : 422;
  throw new HttpProblem(
    status,
    result.code,
    result.detail,
    result.errors.length > 0 ? { errors: result.errors } : {},
  );
}

/** The typed input and golden answer of a body, checked for its task type. */
function checkContent(type: TaskType, body: EditableBody) {
  const input: TaskInput = orThrow(parseTaskInput(type, body.input));
  const goldenAnswer = orThrow(
    checkGolden(type, input, { is_golden: body.is_golden, golden_answer: body.golden_answer }),
  );
  return { input, goldenAnswer };
}

function checkMoney(campaign: CampaignRow, body: EditableBody): void {
  if (body.reward.currency !== campaign.currency) {
    throw new HttpProblem(
      422,
      'CURRENCY_MISMATCH',
      `The reward must be in the campaign's currency, ${campaign.currency}.`,
    );
  }
  if (body.reward.amount > Number(campaign.budget_amount)) {
    throw new HttpProblem(
      422,
      'REWARD_EXCEEDS_BUDGET',
      `The reward (${body.reward.amount}) is more than the campaign's whole budget (${Number(campaign.budget_amount)} ${campaign.currency}).`,
    );
  }
}

/** Tasks may be added to and changed in campaigns that are not over. */
function assertCampaignOpen(campaign: CampaignRow): void {
  if (!['draft', 'funding', 'active', 'paused'].includes(campaign.status)) {
    throw new HttpProblem(
      409,
      'CAMPAIGN_CLOSED',
      `The campaign is ${campaign.status}; its tasks cannot change.`,
    );
  }
}

/** The stored form of the editable fields (normalised requirements, parsed input). */
function editableColumns(
  body: EditableBody,
  content: { input: TaskInput; goldenAnswer: Record<string, unknown> | null },
  defaultClaimTtl: number,
) {
  return {
    title: body.title,
    description: body.description,
    input: JSON.stringify(content.input),
    is_golden: body.is_golden,
    golden_answer: content.goldenAnswer === null ? null : JSON.stringify(content.goldenAnswer),
    difficulty: body.difficulty,
    reward_amount: body.reward.amount,
    currency: body.reward.currency,
    xp_reward: body.xp_reward,
    time_estimate: body.time_estimate ?? null,
    max_submissions: body.max_submissions,
    judges_required: body.judges_required,
    min_trust_score: body.min_trust_score,
    min_level: body.min_level,
    required_languages: normaliseLanguages(body.required_languages),
    regions: normaliseRegions(body.regions),
    is_priority: body.is_priority,
    claim_ttl_seconds: body.claim_ttl_seconds ?? defaultClaimTtl,
    deadline: body.deadline ? new Date(body.deadline) : null,
  };
}

function isContributor(principal: Principal): boolean {
  return principal.role === 'contributor' && principal.companyId === undefined;
}

/** A contributor sees a task that is open to them, or one they have claimed before. */
async function contributorMaySee(db: Kysely<TasksDB>, task: TaskRow, userId: string): Promise<boolean> {
  if (!UUID.test(userId)) return false;
  const me = userId.toLowerCase();
  if (task.status === 'active') {
    const campaign = await findCampaign(db, task.campaign_id);
    if (campaign && (!campaign.is_private || (await isInvited(db, campaign.id, me)))) return true;
  }
  return hasAssignment(db, task.id, me);
}

export function taskRoutes(app: HttpApp, deps: RouteDeps): void {
  const { db, config } = deps;

  /** The task, if the caller may change it: 404 if it may not even read it, 403 if only read. */
  async function writableTask(principal: Principal, id: string): Promise<TaskRow> {
    const task = await findTask(db, id);
    if (!task) throw taskNotFound();
    await assertCompanyAccess(db, principal, task.company_id, 'write', {
      notFound: taskNotFound(),
      scopeFamily: 'tasks',
    });
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
      const content = checkContent(body.task_type, body);
      if (body.deadline && Date.parse(body.deadline) <= Date.now()) {
        throw new HttpProblem(422, 'DEADLINE_PASSED', 'The deadline must be in the future.');
      }
      if (!UUID.test(principal.userId)) {
        throw new HttpProblem(403, 'FORBIDDEN', 'This token does not name a user or an API key.');
      }
      const key = request.headers['idempotency-key'];
      const idempotent = key ? { principalId: principal.userId, operation: 'create-task', key } : undefined;

      const response = await db.transaction().execute(async (trx) => {
        const now = new Date();
        if (idempotent) {
          const earlier = await claimIdempotencyKey(trx, { ...idempotent, body }, now);
          if (earlier) return earlier;
        }
        const found = await findCampaign(trx, body.campaign_id);
        if (!found) throw campaignNotFound();
        await assertCompanyAccess(trx, principal, found.company_id, 'write', {
          notFound: campaignNotFound(),
          scopeFamily: 'tasks',
        });
        const campaign = await lockCampaign(trx, found.id);
        if (!campaign) throw campaignNotFound();
        assertCampaignOpen(campaign);
        checkMoney(campaign, body);

        const task = await insertTask(trx, {
          id: randomUUID(),
          campaign_id: campaign.id,
          company_id: campaign.company_id,
          task_type: body.task_type,
          ...editableColumns(body, content, config.TASKS_DEFAULT_CLAIM_TTL_SECONDS),
          status: 'active',
          created_by: principal.userId.toLowerCase(),
          created_at: now,
          updated_at: now,
        });
        await appendToOutbox(trx, [
          buildEvent('tasks.task.published.v1', taskSnapshot(task), { subject: task.id }),
        ]);
        // A new task may make a campaign paused for want of budget claimable again, or not.
        await reconcileCampaign(trx, campaign.id);
        const created = { status: 201, body: { task: companyView(task) } };
        if (idempotent) await recordIdempotentResponse(trx, idempotent, created);
        return created;
      });
      // A replay answers what the first request did (a creation: always 201).
      return reply.code(201).send(response.body as z.infer<typeof taskResponse>);
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
      if (!(await companyAccess(db, principal, task.company_id, 'read', 'tasks'))) throw taskNotFound();
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
      const content = checkContent(existing.task_type, body);
      const deadline = body.deadline ? new Date(body.deadline) : null;
      // A deadline kept as it was may have passed; a new one must be ahead.
      if (
        deadline &&
        deadline.getTime() <= Date.now() &&
        deadline.getTime() !== existing.deadline?.getTime()
      ) {
        throw new HttpProblem(422, 'DEADLINE_PASSED', 'The deadline must be in the future.');
      }

      const task = await db.transaction().execute(async (trx) => {
        // Campaign first, then task: the lock order of claims and settlements.
        const campaign = await lockCampaign(trx, existing.campaign_id);
        const before = await lockTask(trx, existing.id);
        if (!campaign || !before) throw taskNotFound();
        if (isClosed(before.status)) {
          throw new HttpProblem(
            409,
            'TASK_CLOSED',
            `The task is ${before.status}; it cannot change any more.`,
          );
        }
        assertCampaignOpen(campaign);
        checkMoney(campaign, body);
        if (body.max_submissions < before.slots_taken) {
          throw new HttpProblem(
            409,
            'MAX_BELOW_TAKEN',
            `max_submissions (${body.max_submissions}) is below the ${before.slots_taken} slots already taken.`,
          );
        }
        const status = body.status ?? before.status;
        if (!canTransition(before.status, status)) {
          throw new HttpProblem(409, 'TASK_CLOSED', `A ${before.status} task cannot become ${status}.`);
        }
        // Only future claims see the new reward and XP: every assignment already made stores the
        // reward it was promised at claim time (assignments.reward_amount), and is paid that.
        const after = await updateTask(trx, before.id, {
          ...editableColumns(body, content, config.TASKS_DEFAULT_CLAIM_TTL_SECONDS),
          status,
          updated_at: new Date(),
        });
        const ref = { task_id: after.id, campaign_id: after.campaign_id, company_id: after.company_id };
        const meta = { subject: after.id };
        const events: TesseraEvent[] = [buildEvent('tasks.task.updated.v1', taskSnapshot(after), meta)];
        const change = statusChange(before.status, status);
        if (change === 'paused') events.push(buildEvent('tasks.task.paused.v1', ref, meta));
        if (change === 'resumed') events.push(buildEvent('tasks.task.resumed.v1', ref, meta));
        await appendToOutbox(trx, events);
        await reconcileCampaign(trx, campaign.id);
        return after;
      });
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
      const task = await db.transaction().execute(async (trx) => {
        const campaign = await lockCampaign(trx, existing.campaign_id);
        const before = await lockTask(trx, existing.id);
        if (!campaign || !before) throw taskNotFound();
        if (before.status === 'archived') return before;
        if (before.status === 'completed') {
          throw new HttpProblem(409, 'TASK_CLOSED', 'The task is completed; it cannot be archived.');
        }
        const after = await updateTask(trx, before.id, { status: 'archived', updated_at: new Date() });
        await appendToOutbox(trx, [
          buildEvent(
            'tasks.task.closed.v1',
            {
              task_id: after.id,
              campaign_id: after.campaign_id,
              company_id: after.company_id,
              reason_code: 'archived',
            },
            { subject: after.id },
          ),
        ]);
        await reconcileCampaign(trx, campaign.id);
        return after;
      });
      return { task: companyView(task) };
    },
  );
}
