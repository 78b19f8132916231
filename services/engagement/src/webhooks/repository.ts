import { after, lockName, type Position } from '@tessera/service-kit';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { EngagementDB } from '../db/schema.ts';
import type { DeliveryEventType, WebhookEvent, WebhookPayload } from './payloads.ts';
import type { WebhookDeliveriesTable, WebhookDeliveryAttemptsTable, WebhooksTable } from './tables.ts';

type Db = Kysely<EngagementDB>;

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type AttemptRow = Selectable<WebhookDeliveryAttemptsTable>;

/** A company's webhook that is not deleted. */
export async function findWebhook(
  db: Db,
  companyId: string,
  webhookId: string,
  lock = false,
): Promise<WebhookRow | undefined> {
  const query = db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', '=', webhookId)
    .where('company_id', '=', companyId)
    .where('deleted_at', 'is', null);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
}

export async function listWebhooks(
  db: Db,
  companyId: string,
  options: { after?: Position; limit: number },
): Promise<WebhookRow[]> {
  let query = db
    .selectFrom('webhooks')
    .selectAll()
    .where('company_id', '=', companyId)
    .where('deleted_at', 'is', null);
  if (options.after) query = query.where(after(options.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
}

/** Serialises a company's changes to its set of webhooks (the active-webhook limit). */
export async function lockCompanyWebhooks(trx: Db, companyId: string): Promise<void> {
  await lockName(trx, `engagement.webhooks:${companyId}`);
}

export async function countActiveWebhooks(trx: Db, companyId: string): Promise<number> {
  const row = await trx
    .selectFrom('webhooks')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('company_id', '=', companyId)
    .where('active', '=', true)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertWebhook(trx: Db, row: WebhookRow): Promise<void> {
  await trx.insertInto('webhooks').values(row).execute();
}

export async function updateWebhook(
  trx: Db,
  id: string,
  changes: Partial<Omit<WebhookRow, 'id' | 'company_id' | 'created_at'>>,
): Promise<WebhookRow> {
  return trx
    .updateTable('webhooks')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The active webhooks of a company subscribed to `event`. */
export async function subscribers(trx: Db, companyId: string, event: WebhookEvent): Promise<string[]> {
  const rows = await trx
    .selectFrom('webhooks')
    .select('id')
    .where('company_id', '=', companyId)
    .where('active', '=', true)
    .where('deleted_at', 'is', null)
    .where(sql<boolean>`events @> array[${event}]::text[]`)
    .execute();
  return rows.map((row) => row.id);
}

/** Queues a delivery; nothing when this webhook already has one for this event. */
export async function queueDelivery(
  trx: Db,
  delivery: {
    id: string;
    webhookId: string;
    eventId: string;
    eventType: DeliveryEventType;
    payload: WebhookPayload;
    now: Date;
  },
): Promise<boolean> {
  const result = await trx
    .insertInto('webhook_deliveries')
    .values({
      id: delivery.id,
      webhook_id: delivery.webhookId,
      event_id: delivery.eventId,
      event_type: delivery.eventType,
      payload: JSON.stringify(delivery.payload),
      status: 'pending',
      attempts: 0,
      round_start: 0,
      last_status_code: null,
      last_error: null,
      next_attempt_at: delivery.now,
      claim: null,
      created_at: delivery.now,
      updated_at: delivery.now,
      delivered_at: null,
    })
    .onConflict((oc) => oc.columns(['webhook_id', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** A deleted webhook's deliveries that were still to be sent are cancelled; the log stays. */
export async function cancelPending(trx: Db, webhookId: string, now: Date): Promise<void> {
  await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'cancelled', next_attempt_at: null, claim: null, updated_at: now })
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'pending')
    .execute();
}

export async function findDelivery(
  db: Db,
  webhookId: string,
  deliveryId: string,
  lock = false,
): Promise<DeliveryRow | undefined> {
  const query = db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('id', '=', deliveryId)
    .where('webhook_id', '=', webhookId);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
}

/** Queues a delivery again, now, with a fresh budget of attempts; its past attempts stay in the log. */
export async function requeueDelivery(trx: Db, delivery: DeliveryRow, now: Date): Promise<DeliveryRow> {
  return trx
    .updateTable('webhook_deliveries')
    .set({
      status: 'pending',
      round_start: delivery.attempts,
      next_attempt_at: now,
      claim: null,
      updated_at: now,
    })
    .where('id', '=', delivery.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listDeliveries(
  db: Db,
  webhookId: string,
  options: { after?: Position; limit: number },
): Promise<DeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
  if (options.after) query = query.where(after(options.after));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
}

export async function attemptsOf(db: Db, deliveryIds: readonly string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db
    .selectFrom('webhook_delivery_attempts')
    .selectAll()
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('delivery_id')
    .orderBy('attempt')
    .execute();
}

/** What the sender's health check reads of a webhook, with its row locked. */
export type WebhookHealthRow = Pick<
  WebhookRow,
  'id' | 'company_id' | 'url' | 'active' | 'deleted_at' | 'failing_since'
>;

export async function lockWebhookHealth(trx: Db, webhookId: string): Promise<WebhookHealthRow | undefined> {
  return trx
    .selectFrom('webhooks')
    .select(['id', 'company_id', 'url', 'active', 'deleted_at', 'failing_since'])
    .where('id', '=', webhookId)
    .forUpdate()
    .executeTakeFirst();
}

/** A delivery went through: the webhook is not failing. Locks its row only if it was. */
export async function markRecovered(trx: Db, webhookId: string): Promise<void> {
  await trx
    .updateTable('webhooks')
    .set({ failing_since: null })
    .where('id', '=', webhookId)
    .where('failing_since', 'is not', null)
    .execute();
}

/** The company's managers, who are told when one of its webhooks is switched off. */
export async function managersOf(trx: Db, companyId: string): Promise<string[]> {
  const rows = await trx
    .selectFrom('company_members')
    .select('user_id')
    .where('company_id', '=', companyId)
    .where('member_role', '=', 'manager')
    .where('removed', '=', false)
    .orderBy('user_id')
    .execute();
  return rows.map((row) => row.user_id);
}
