import { refuse } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { EngagementDB } from '../db/schema.ts';
import { pingPayload, type WebhookEvent, type WebhookPayload } from './payloads.ts';
import {
  cancelPending,
  countActiveWebhooks,
  type DeliveryRow,
  findDelivery,
  findWebhook,
  insertWebhook,
  lockCompanyWebhooks,
  queueDelivery,
  requeueDelivery,
  subscribers,
  updateWebhook,
  type WebhookRow,
} from './repository.ts';
import { newSigningSecret, sealSecret } from './secrets.ts';
import type { WebhookSettings } from './settings.ts';
import { checkWebhookUrl } from './url-policy.ts';

type Db = Kysely<EngagementDB>;

/** The most active webhooks one company may have. */
export const MAX_ACTIVE_WEBHOOKS = 10;

/** How long deliveries are still signed with the secret a rotation replaced as well. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export const webhookNotFound = () => refuse.notFound('No such webhook.', 'WEBHOOK_NOT_FOUND');
export const deliveryNotFound = () => refuse.notFound('No such delivery.', 'DELIVERY_NOT_FOUND');

function acceptableUrl(raw: string, settings: WebhookSettings): string {
  const check = checkWebhookUrl(raw, { allowPrivate: settings.allowPrivate });
  if (!check.ok) {
    throw refuse.unprocessable('INVALID_WEBHOOK_URL', `The webhook URL ${check.reason}.`, {
      reason: check.reason,
    });
  }
  return check.url.toString();
}

async function assertRoomForActive(trx: Db, companyId: string): Promise<void> {
  if ((await countActiveWebhooks(trx, companyId)) >= MAX_ACTIVE_WEBHOOKS) {
    throw refuse.conflict(
      'TOO_MANY_WEBHOOKS',
      `A company may have at most ${MAX_ACTIVE_WEBHOOKS} active webhooks; deactivate or delete one first.`,
      { max: MAX_ACTIVE_WEBHOOKS },
    );
  }
}

/** Registers a webhook; answers it and its signing secret (the only time the secret is shown). */
export async function createWebhook(
  db: Db,
  settings: WebhookSettings,
  input: { companyId: string; url: string; events: WebhookEvent[]; description: string },
  now: Date,
): Promise<{ webhook: WebhookRow; secret: string }> {
  const url = acceptableUrl(input.url, settings);
  return db.transaction().execute(async (trx) => {
    await lockCompanyWebhooks(trx, input.companyId);
    await assertRoomForActive(trx, input.companyId);
    const id = uuidv7();
    const secret = newSigningSecret();
    const sealed = sealSecret(settings.keyring, { webhookId: id, companyId: input.companyId }, secret);
    const webhook: WebhookRow = {
      id,
      company_id: input.companyId,
      url,
      events: [...new Set(input.events)],
      description: input.description,
      active: true,
      secret_key_id: sealed.keyId,
      secret_sealed: sealed.sealed,
      previous_secret_key_id: null,
      previous_secret_sealed: null,
      previous_secret_expires_at: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
      failing_since: null,
      disabled_at: null,
      disabled_reason: null,
    };
    await insertWebhook(trx, webhook);
    return { webhook, secret };
  });
}

export async function changeWebhook(
  db: Db,
  settings: WebhookSettings,
  input: {
    companyId: string;
    webhookId: string;
    url?: string | undefined;
    events?: WebhookEvent[] | undefined;
    description?: string | undefined;
    active?: boolean | undefined;
  },
  now: Date,
): Promise<WebhookRow> {
  const url = input.url === undefined ? undefined : acceptableUrl(input.url, settings);
  return db.transaction().execute(async (trx) => {
    await lockCompanyWebhooks(trx, input.companyId);
    const webhook = await findWebhook(trx, input.companyId, input.webhookId, true);
    if (!webhook) throw webhookNotFound();
    if (input.active === true && !webhook.active) await assertRoomForActive(trx, input.companyId);
    return updateWebhook(trx, webhook.id, {
      ...(url !== undefined ? { url } : {}),
      ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.active !== undefined ? { active: input.active } : {}),
      // Switched on or off by hand: what the platform decided, and the failing it counted, are over.
      ...(input.active !== undefined && input.active !== webhook.active
        ? { failing_since: null, disabled_at: null, disabled_reason: null }
        : {}),
      updated_at: now,
    });
  });
}

/** Deletes a webhook: it is no longer shown or sent to; its deliveries stay, those still due are cancelled. */
export async function deleteWebhook(db: Db, companyId: string, webhookId: string, now: Date): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const webhook = await findWebhook(trx, companyId, webhookId, true);
    if (!webhook) throw webhookNotFound();
    await updateWebhook(trx, webhook.id, { active: false, deleted_at: now, updated_at: now });
    await cancelPending(trx, webhook.id, now);
  });
}

/**
 * A new signing secret, shown once. The replaced one still signs (a second `v1`) for
 * ROTATION_OVERLAP_MS, so the company can switch its receiver without dropping a delivery.
 */
export async function rotateSecret(
  db: Db,
  settings: WebhookSettings,
  companyId: string,
  webhookId: string,
  now: Date,
): Promise<{ webhook: WebhookRow; secret: string }> {
  return db.transaction().execute(async (trx) => {
    const webhook = await findWebhook(trx, companyId, webhookId, true);
    if (!webhook) throw webhookNotFound();
    const secret = newSigningSecret();
    const sealed = sealSecret(settings.keyring, { webhookId: webhook.id, companyId }, secret);
    const updated = await updateWebhook(trx, webhook.id, {
      secret_key_id: sealed.keyId,
      secret_sealed: sealed.sealed,
      previous_secret_key_id: webhook.secret_key_id,
      previous_secret_sealed: webhook.secret_sealed,
      previous_secret_expires_at: new Date(now.getTime() + ROTATION_OVERLAP_MS),
      updated_at: now,
    });
    return { webhook: updated, secret };
  });
}

/** Sends a delivery again now, whatever became of it; new attempts are appended to its log. */
export async function redeliver(
  db: Db,
  companyId: string,
  webhookId: string,
  deliveryId: string,
  now: Date,
): Promise<DeliveryRow> {
  return db.transaction().execute(async (trx) => {
    const webhook = await findWebhook(trx, companyId, webhookId);
    if (!webhook) throw webhookNotFound();
    const delivery = await findDelivery(trx, webhook.id, deliveryId, true);
    if (!delivery) throw deliveryNotFound();
    return requeueDelivery(trx, delivery, now);
  });
}

/** Queues a `ping` to the webhook (active or not: testing an endpoint before switching it on is the point). */
export async function queuePing(
  db: Db,
  companyId: string,
  webhookId: string,
  now: Date,
): Promise<DeliveryRow> {
  return db.transaction().execute(async (trx) => {
    const webhook = await findWebhook(trx, companyId, webhookId);
    if (!webhook) throw webhookNotFound();
    const id = uuidv7();
    await queueDelivery(trx, {
      id,
      webhookId: webhook.id,
      eventId: id,
      eventType: 'ping',
      payload: pingPayload(id, webhook.id, now),
      now,
    });
    return (await findDelivery(trx, webhook.id, id))!;
  });
}

/**
 * One delivery per active webhook of the company subscribed to the event, in the handler's
 * transaction. A bus event handled again queues nothing new (unique per webhook and event).
 */
export async function queueEvent(
  trx: Db,
  input: { companyId: string; event: WebhookEvent; eventId: string; payload: WebhookPayload; now: Date },
): Promise<number> {
  let queued = 0;
  for (const webhookId of await subscribers(trx, input.companyId, input.event)) {
    const fresh = await queueDelivery(trx, {
      id: uuidv7(),
      webhookId,
      eventId: input.eventId,
      eventType: input.event,
      payload: input.payload,
      now: input.now,
    });
    if (fresh) queued++;
  }
  return queued;
}
