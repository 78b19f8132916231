import {
  assertCompanyAccess,
  type CompanyAccessPolicy,
  type CompanyNeed,
  cursorParam,
  type HttpApp,
  limitParam,
  paginate,
  principalOf,
  refuse,
  safeText,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { EngagementContext } from '../context.ts';
import {
  changeWebhook,
  createWebhook,
  deleteWebhook,
  queuePing,
  redeliver,
  rotateSecret,
  webhookNotFound,
} from './handle.ts';
import { webhookEvents } from './payloads.ts';
import {
  attemptsOf,
  type AttemptRow,
  type DeliveryRow,
  findWebhook,
  listDeliveries,
  listWebhooks,
  type WebhookRow,
} from './repository.ts';
import type { WebhookSettings } from './settings.ts';

type Request = Parameters<HttpApp['authenticate']>[0];

/** Who may see and change a company's webhooks (the kit's one company-access rule). */
export const webhookAccess: CompanyAccessPolicy = {
  readScopes: ['webhooks:read'],
  writeScopes: ['webhooks:write'],
  writeRoles: ['manager'],
  writeDetail:
    "Only this company's managers, its API keys with webhooks:write, and admins may change its webhooks.",
};

const companyHidden = () => refuse.notFound('No such company, or not yours.', 'COMPANY_NOT_FOUND');

const tags = ['webhooks'];
const security = [{ bearerAuth: [] }];
const base = '/api/v1/companies/:id/webhooks';

const companyParams = z.strictObject({ id: uuidParam });
const webhookParams = companyParams.extend({ webhook_id: uuidParam });
const deliveryParams = webhookParams.extend({ delivery_id: uuidParam });

// Longer than the policy allows, so that a too-long URL gets the policy's 422 and its reason.
const urlField = z.string().min(1).max(8_192);
const eventsField = z.array(z.enum(webhookEvents)).min(1).max(webhookEvents.length);
const descriptionField = safeText(500);

const createBody = z.strictObject({
  url: urlField,
  events: eventsField,
  description: descriptionField.default(''),
});

const patchBody = z
  .strictObject({
    url: urlField.optional(),
    events: eventsField.optional(),
    description: descriptionField.optional(),
    active: z.boolean().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'change at least one field' });

const pageQuery = z.strictObject({ cursor: cursorParam.optional(), limit: limitParam(20, 100) });

const webhookSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.enum(webhookEvents)),
  description: z.string(),
  active: z.boolean(),
  /** The first failed delivery since the last one that went through; null when not failing. */
  failing_since: timestamp.nullable(),
  /** Set when the platform switched it off (`failing`: it failed for too long); null otherwise. */
  disabled: z.object({ reason: z.enum(['failing']), at: timestamp }).nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

const withSecret = z.object({
  webhook: webhookSchema,
  /** The signing secret: shown here once, never again. */
  secret: z.string().startsWith('whsec_'),
});

const attemptSchema = z.object({
  attempt: z.number().int().positive(),
  status_code: z.number().int().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number().int().nonnegative(),
  at: timestamp,
});

const deliverySchema = z.object({
  id: z.uuid(),
  event_id: z.uuid(),
  event_type: z.enum([...webhookEvents, 'ping']),
  status: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
  attempts: z.number().int().nonnegative(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
  delivered_at: timestamp.nullable(),
  attempt_log: z.array(attemptSchema),
});

const presentWebhook = (webhook: WebhookRow) => ({
  id: webhook.id,
  url: webhook.url,
  events: webhook.events,
  description: webhook.description,
  active: webhook.active,
  failing_since: webhook.failing_since?.toISOString() ?? null,
  disabled:
    webhook.disabled_reason !== null && webhook.disabled_at !== null
      ? { reason: webhook.disabled_reason, at: webhook.disabled_at.toISOString() }
      : null,
  created_at: webhook.created_at.toISOString(),
  updated_at: webhook.updated_at.toISOString(),
});

const presentDelivery = (delivery: DeliveryRow, attempts: readonly AttemptRow[]) => ({
  id: delivery.id,
  event_id: delivery.event_id,
  event_type: delivery.event_type,
  status: delivery.status,
  attempts: delivery.attempts,
  last_status_code: delivery.last_status_code,
  last_error: delivery.last_error,
  next_attempt_at: delivery.status === 'pending' ? (delivery.next_attempt_at?.toISOString() ?? null) : null,
  created_at: delivery.created_at.toISOString(),
  updated_at: delivery.updated_at.toISOString(),
  delivered_at: delivery.delivered_at?.toISOString() ?? null,
  attempt_log: attempts.map((attempt) => ({
    attempt: attempt.attempt,
    status_code: attempt.status_code,
    error: attempt.error,
    duration_ms: attempt.duration_ms,
    at: attempt.at.toISOString(),
  })),
});

/**
 * A company's webhooks: members read, managers (and admins, and API keys with webhooks:write)
 * change. Whoever may not even read gets a 404 that does not say whether the company exists.
 * No Idempotency-Key on create: replaying its response would mean storing the secret in clear.
 */
export function webhookRoutes(
  app: HttpApp,
  { db, clock }: EngagementContext,
  settings: WebhookSettings,
): void {
  const access = (request: Request, companyId: string, need: CompanyNeed) =>
    assertCompanyAccess(db, principalOf(request), companyId, need, webhookAccess, companyHidden());

  app.post(
    base,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Register a webhook (422 INVALID_WEBHOOK_URL, 409 TOO_MANY_WEBHOOKS); its secret is shown once',
        description:
          'Deliveries are POSTed as JSON `{id, type, created_at, data}` with `tessera-signature: t=<unix s>,v1=<hex ' +
          'HMAC-SHA256(secret, "<t>.<body>")>`, retried with exponential backoff on anything but a 2xx.',
        security,
        params: companyParams,
        body: createBody,
        response: { 201: withSecret },
      },
    },
    async (request, reply) => {
      const companyId = request.params.id;
      await access(request, companyId, 'write');
      const { webhook, secret } = await createWebhook(
        db,
        settings,
        {
          companyId,
          url: request.body.url,
          events: request.body.events,
          description: request.body.description,
        },
        clock(),
      );
      return reply.code(201).send({ webhook: presentWebhook(webhook), secret });
    },
  );

  app.get(
    base,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "The company's webhooks, newest first",
        security,
        params: companyParams,
        querystring: pageQuery,
        response: { 200: z.object({ webhooks: z.array(webhookSchema), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const companyId = request.params.id;
      await access(request, companyId, 'read');
      const { cursor, limit } = request.query;
      const rows = await listWebhooks(db, companyId, {
        ...(cursor ? { after: cursor } : {}),
        limit: limit + 1,
      });
      const { page, next } = paginate(rows, limit);
      return { webhooks: page.map(presentWebhook), next_cursor: next };
    },
  );

  app.get(
    `${base}/:webhook_id`,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'A webhook (never its secret)',
        security,
        params: webhookParams,
        response: { 200: z.object({ webhook: webhookSchema }) },
      },
    },
    async (request) => {
      await access(request, request.params.id, 'read');
      const webhook = await findWebhook(db, request.params.id, request.params.webhook_id);
      if (!webhook) throw webhookNotFound();
      return { webhook: presentWebhook(webhook) };
    },
  );

  app.patch(
    `${base}/:webhook_id`,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Change a webhook: url, events, description, active (422 INVALID_WEBHOOK_URL, 409 TOO_MANY_WEBHOOKS)',
        security,
        params: webhookParams,
        body: patchBody,
        response: { 200: z.object({ webhook: webhookSchema }) },
      },
    },
    async (request) => {
      await access(request, request.params.id, 'write');
      const webhook = await changeWebhook(
        db,
        settings,
        { companyId: request.params.id, webhookId: request.params.webhook_id, ...request.body },
        clock(),
      );
      return { webhook: presentWebhook(webhook) };
    },
  );

  app.delete(
    `${base}/:webhook_id`,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Delete a webhook: nothing more is sent to it; deliveries still due are cancelled',
        security,
        params: webhookParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await access(request, request.params.id, 'write');
      await deleteWebhook(db, request.params.id, request.params.webhook_id, clock());
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${base}/:webhook_id/rotate-secret`,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'A new signing secret, shown once; the old one still signs as well for 24 hours',
        security,
        params: webhookParams,
        response: { 200: withSecret },
      },
    },
    async (request) => {
      await access(request, request.params.id, 'write');
      const { webhook, secret } = await rotateSecret(
        db,
        settings,
        request.params.id,
        request.params.webhook_id,
        clock(),
      );
      return { webhook: presentWebhook(webhook), secret };
    },
  );

  app.get(
    `${base}/:webhook_id/deliveries`,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: "The webhook's deliveries, newest first, each with its attempts",
        security,
        params: webhookParams,
        querystring: pageQuery,
        response: {
          200: z.object({ deliveries: z.array(deliverySchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      await access(request, request.params.id, 'read');
      const webhook = await findWebhook(db, request.params.id, request.params.webhook_id);
      if (!webhook) throw webhookNotFound();
      const { cursor, limit } = request.query;
      const rows = await listDeliveries(db, webhook.id, {
        ...(cursor ? { after: cursor } : {}),
        limit: limit + 1,
      });
      const { page, next } = paginate(rows, limit);
      const attempts = await attemptsOf(
        db,
        page.map((delivery) => delivery.id),
      );
      return {
        deliveries: page.map((delivery) =>
          presentDelivery(
            delivery,
            attempts.filter((attempt) => attempt.delivery_id === delivery.id),
          ),
        ),
        next_cursor: next,
      };
    },
  );

  app.post(
    `${base}/:webhook_id/deliveries/:delivery_id/redeliver`,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Send a delivery again now (with a fresh budget of attempts); its log keeps growing',
        security,
        params: deliveryParams,
        response: { 202: z.object({ delivery: deliverySchema }) },
      },
    },
    async (request, reply) => {
      await access(request, request.params.id, 'write');
      const delivery = await redeliver(
        db,
        request.params.id,
        request.params.webhook_id,
        request.params.delivery_id,
        clock(),
      );
      const attempts = await attemptsOf(db, [delivery.id]);
      return reply.code(202).send({ delivery: presentDelivery(delivery, attempts) });
    },
  );

  app.post(
    `${base}/:webhook_id/test`,
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Queue a `ping` delivery to the webhook (also when it is inactive)',
        security,
        params: webhookParams,
        response: { 202: z.object({ delivery: deliverySchema }) },
      },
    },
    async (request, reply) => {
      await access(request, request.params.id, 'write');
      const delivery = await queuePing(db, request.params.id, request.params.webhook_id, clock());
      return reply.code(202).send({ delivery: presentDelivery(delivery, []) });
    },
  );
}
