import {
  type HttpApp,
  isUuid,
  limitParam,
  opaqueCursor,
  paginate,
  principalOf,
  refusal,
  requireRole,
  type ServiceMetrics,
  timestamp,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { EngagementContext } from '../context.ts';
import { dismissWait, type ListedWait, listWaits, oldestWaitReceivedAt, type WaitPosition } from './waits.ts';

/** Engagement's operator routes sit beside the kit's (`/api/v1/admin/engagement/dead-letters`). */
export const CATALOG_WAITS_PATH = '/api/v1/admin/engagement/catalog-waits';

const HOUR_MS = 3_600_000;

/**
 * Where the last wait shown sits in (received_at, event_id, capability) order. `received_at` is
 * kept in milliseconds: every wait is written with the application's clock (`waitForCatalog`).
 */
/** A capability's name, as waits record it. */
const capabilityName = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/);

const position = opaqueCursor(
  z.strictObject({
    t: z.number().int().nonnegative().max(8.64e15),
    e: z.string().refine(isUuid),
    c: capabilityName,
  }),
);
const cursorOf = (last: ListedWait) =>
  position.encode({ t: last.received_at.getTime(), e: last.event_id, c: last.capability });
const positionOf = ({ t, e, c }: { t: number; e: string; c: string }): WaitPosition => ({
  receivedAt: new Date(t),
  eventId: e.toLowerCase(),
  capability: c,
});

const waitSchema = z.object({
  event_id: z.uuid(),
  event_type: z.string(),
  /** The capability that applies the event once its task or campaign is known. */
  capability: z.string(),
  /** The task whose type it waits for (null: it waits for a campaign). */
  task_id: z.uuid().nullable(),
  /** The campaign whose company it waits for (null: it waits for a task). */
  campaign_id: z.uuid().nullable(),
  received_at: timestamp,
});

const present = (wait: ListedWait) => ({
  event_id: wait.event_id,
  event_type: wait.event_type,
  capability: wait.capability,
  task_id: wait.task_id,
  campaign_id: wait.campaign_id,
  received_at: wait.received_at.toISOString(),
});

/**
 * Operators' view of `catalog_waits`: the events a capability keeps until tasks announces their
 * task or campaign (`waits.ts`). One that tasks never announces waits for ever, so an admin can
 * list them, oldest first; the gauge of the oldest one's age lets an alert say so. No user id: the
 * event, the capability and what it waits for are enough to chase it in tasks.
 */
export function catalogWaitRoutes(app: HttpApp, { db, clock, metrics }: EngagementContext): void {
  app.get(
    CATALOG_WAITS_PATH,
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['operations'],
        summary: 'List the events waiting for their task or campaign to be announced by tasks, oldest first',
        description:
          'An approval handled before tasks announced its task (or campaign) waits here, one row per ' +
          'capability that needs it (badges and missions the task type, webhooks the campaign company), ' +
          'and is applied once tasks announces it. `older_than_hours` keeps those received longer ago.',
        security: [{ bearerAuth: [] }],
        querystring: z.strictObject({
          older_than_hours: z.coerce.number().int().min(0).max(87_600).optional(),
          cursor: position.param.optional(),
          limit: limitParam(50, 200),
        }),
        response: {
          200: z.object({ catalog_waits: z.array(waitSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const { older_than_hours: olderThanHours, cursor, limit } = request.query;
      const rows = await listWaits(db, {
        limit: limit + 1,
        ...(olderThanHours !== undefined
          ? { receivedBefore: new Date(clock().getTime() - olderThanHours * HOUR_MS) }
          : {}),
        ...(cursor ? { after: positionOf(cursor) } : {}),
      });
      const { page, next } = paginate(rows, limit, cursorOf);
      return { catalog_waits: page.map(present), next_cursor: next };
    },
  );

  app.post(
    `${CATALOG_WAITS_PATH}/:event_id/:capability/dismiss`,
    {
      preHandler: requireRole('admin'),
      schema: {
        tags: ['operations'],
        summary: 'Drop an event waiting for a task or campaign that tasks will never announce, saying why',
        description:
          'The wait leaves the list and is never applied: what its capability would have done with the ' +
          'event (a badge or mission counted, a webhook sent) is not done. The rest of the approval was ' +
          'applied when it arrived. Kept: which event, capability, task or campaign, who dropped it and why. ' +
          '404 `CATALOG_WAIT_NOT_FOUND` when no such wait is left (never one, already dropped, or applied meanwhile).',
        security: [{ bearerAuth: [] }],
        params: z.strictObject({ event_id: z.uuid(), capability: capabilityName }),
        body: z.strictObject({ reason: z.string().trim().min(10).max(1_000) }),
        response: {
          200: z.object({
            catalog_wait: waitSchema.extend({ dismissed_at: timestamp, dismiss_reason: z.string() }),
          }),
        },
      },
    },
    async (request) => {
      const { event_id: eventId, capability } = request.params;
      const dismissed = await db
        .transaction()
        .execute((trx) =>
          dismissWait(
            trx,
            { event_id: eventId, capability },
            { by: principalOf(request).userId, reason: request.body.reason, now: clock() },
          ),
        );
      if (!dismissed) throw waitNotFound();
      request.log.warn(
        { event_id: dismissed.event_id, capability: dismissed.capability, event_type: dismissed.event_type },
        'catalog wait dismissed: its capability will never apply the event',
      );
      return {
        catalog_wait: {
          ...present(dismissed),
          dismissed_at: dismissed.dismissed_at.toISOString(),
          dismiss_reason: dismissed.dismiss_reason,
        },
      };
    },
  );
  registerCatalogWaitGauge(metrics, db, clock);
}

const waitNotFound = () =>
  refusal('not_found', 'CATALOG_WAIT_NOT_FOUND', 'No such event waits for that capability.');

/**
 * The age of the oldest waiting event, read when Prometheus scrapes: 0 when none waits. A wait is
 * normally applied within seconds of tasks' announcement; one that keeps growing names a task or
 * campaign tasks never announced (the list above says which).
 */
export function registerCatalogWaitGauge(
  metrics: ServiceMetrics,
  db: EngagementContext['db'],
  clock: EngagementContext['clock'],
): void {
  // Named literally: the alert rules' test finds exported series by their literal names.
  metrics.gaugeOnScrape(
    'tessera_engagement_catalog_wait_oldest_seconds',
    'Seconds since the oldest event still waiting for its task or campaign was received (0: none waits).',
    async () => {
      const oldest = await oldestWaitReceivedAt(db);
      return oldest ? Math.max(0, (clock().getTime() - oldest.getTime()) / 1000) : 0;
    },
  );
}
