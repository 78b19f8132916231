import { randomUUID } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isDatabaseUnavailable, type Logger, type Worker, startPeriodicJob } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import { Agent, request } from 'undici';
import type { EngagementContext } from '../context.ts';
import type { EngagementDB } from '../db/schema.ts';
import { notify } from '../notifications/index.ts';
import { healthAfterFailure } from './health.ts';
import { afterAttempt } from './retry.ts';
import {
  type DeliveryRow,
  lockWebhookHealth,
  managersOf,
  markRecovered,
  type WebhookHealthRow,
  type WebhookRow,
} from './repository.ts';
import { openSecret } from './secrets.ts';
import type { WebhookSettings } from './settings.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts';
import { addressRefusal, hostRefusal, literalAddress } from './url-policy.ts';

/** The worker's name (tests switch it off, or drive `sendDueDeliveries` by hand). */
export const WEBHOOK_SENDER = 'engagement-webhook-sender';

/** Deliveries claimed at once and sent concurrently; a run claims batches until none are due. */
const BATCH = 20;
/** The most one run sends, so that stopping the worker never waits on a long backlog. */
const MAX_PER_RUN = 1_000;
/** How much of an error is kept in the log; response bodies are never kept. */
const MAX_ERROR_CHARS = 200;

/** A refusal to connect: the receiver's host is, or resolves to, a non-public address. */
export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  readonly code = 'WEBHOOK_ADDRESS_BLOCKED';
}

/**
 * `dns.lookup` for the sender's sockets: resolves every address of the host and fails the
 * connection if any of them is not public. The socket then connects to an address from this
 * very answer, so a name that answers differently a moment later (DNS rebinding) cannot slip an
 * internal address in between the check and the connection.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, []);
      if (!allowPrivate && addresses.some((entry) => addressRefusal(entry.address) !== null)) {
        return callback(new BlockedAddressError('the host resolves to a non-public address'), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      return callback(null, first.address, first.family);
    });
  };
}

export function webhookAgent(settings: WebhookSettings): Agent {
  return new Agent({
    connect: { lookup: guardedLookup(settings.allowPrivate), timeout: settings.timeoutMs },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
    keepAliveTimeout: 4_000,
  });
}

/** The sender as a worker: its own connection pool, closed when the worker stops. */
export function webhookSender(context: EngagementContext, settings: WebhookSettings): Worker {
  return {
    name: WEBHOOK_SENDER,
    start(logger) {
      const agent = webhookAgent(settings);
      const job = startPeriodicJob({
        name: WEBHOOK_SENDER,
        intervalMs: settings.intervalMs,
        logger,
        work: () => sendDueDeliveries(context, settings, agent, logger),
      });
      return {
        async stop() {
          await job.stop();
          await agent.close();
        },
      };
    },
  };
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** The attempt failed on our side (no request was made): it says nothing of the receiver's health. */
  ours?: true;
}

/**
 * Claims due deliveries (`for update skip locked`, so senders on several instances never take the
 * same one), sends them, and records each outcome. The claim is committed before sending: no
 * transaction stays open across a receiver's slowness. It is a lease (next_attempt_at moves past
 * the timeout), so a delivery whose sender died is picked up again when it runs out; receivers
 * may therefore see a delivery twice and deduplicate on `tessera-delivery`.
 */
export async function sendDueDeliveries(
  context: EngagementContext,
  settings: WebhookSettings,
  agent: Agent,
  logger: Logger,
): Promise<number> {
  let sent = 0;
  while (sent < MAX_PER_RUN) {
    const batch = await sendBatch(context, settings, agent, logger);
    sent += batch;
    if (batch < BATCH) break;
  }
  return sent;
}

async function sendBatch(
  context: EngagementContext,
  settings: WebhookSettings,
  agent: Agent,
  logger: Logger,
): Promise<number> {
  const { db, clock } = context;
  const now = clock();
  const claim = randomUUID();
  const lease = new Date(now.getTime() + settings.timeoutMs + 30_000);
  const claimed = await sql<DeliveryRow>`
    update webhook_deliveries
    set claim = ${claim}, next_attempt_at = ${lease}, updated_at = ${now}
    where id in (
      select d.id from webhook_deliveries d
      join webhooks w on w.id = d.webhook_id
      where d.status = 'pending' and d.next_attempt_at <= ${now}
        and w.deleted_at is null and (w.active or d.event_type = 'ping')
      order by d.next_attempt_at
      limit ${BATCH}
      for update of d skip locked
    )
    returning *`.execute(db);
  await Promise.all(
    claimed.rows.map(async (delivery) => {
      let outcome: Outcome;
      try {
        const webhook = await db
          .selectFrom('webhooks')
          .selectAll()
          .where('id', '=', delivery.webhook_id)
          .executeTakeFirstOrThrow();
        outcome = await attempt(webhook, delivery, settings, agent, clock(), logger);
      } catch (error) {
        // A fault of ours (a stored URL that no longer parses, say) counts as a failed attempt, so
        // the delivery is retried and given up like any other rather than leased again forever.
        if (isDatabaseUnavailable(error)) throw error;
        logger.error({ err: error, delivery_id: delivery.id }, 'a webhook delivery could not be attempted');
        context.metrics.jobs.itemFailed(WEBHOOK_SENDER);
        outcome = {
          statusCode: null,
          error: 'the delivery could not be attempted (server side)',
          durationMs: 0,
          ours: true,
        };
      }
      await settle(context, settings, delivery, claim, outcome);
    }),
  );
  return claimed.rows.length;
}

function secretsOf(webhook: WebhookRow, settings: WebhookSettings, now: Date): string[] {
  const owner = { webhookId: webhook.id, companyId: webhook.company_id };
  const secrets = [
    openSecret(settings.keyring, owner, { keyId: webhook.secret_key_id, sealed: webhook.secret_sealed }),
  ];
  if (
    webhook.previous_secret_key_id !== null &&
    webhook.previous_secret_sealed !== null &&
    webhook.previous_secret_expires_at !== null &&
    webhook.previous_secret_expires_at > now
  ) {
    secrets.push(
      openSecret(settings.keyring, owner, {
        keyId: webhook.previous_secret_key_id,
        sealed: webhook.previous_secret_sealed,
      }),
    );
  }
  return secrets;
}

async function attempt(
  webhook: WebhookRow,
  delivery: DeliveryRow,
  settings: WebhookSettings,
  agent: Agent,
  now: Date,
  logger: Logger,
): Promise<Outcome> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null): Outcome => ({
    statusCode,
    error: error === null ? null : error.slice(0, MAX_ERROR_CHARS),
    durationMs: Math.round(performance.now() - started),
  });
  const url = new URL(webhook.url);
  if (!settings.allowPrivate) {
    // A literal address is never looked up, so the lookup guard cannot see it: check it here.
    const literal = literalAddress(url.hostname);
    const refusal = literal !== null ? addressRefusal(literal) : hostRefusal(url.hostname);
    if (refusal !== null) return done(null, `refused to connect: the host ${refusal}`);
  }
  let secrets: string[];
  try {
    secrets = secretsOf(webhook, settings, now);
  } catch (error) {
    logger.error({ err: error, webhook_id: webhook.id }, 'webhook signing secret cannot be opened');
    return { ...done(null, 'the signing secret cannot be read (server side)'), ours: true };
  }
  const body = JSON.stringify(delivery.payload);
  try {
    const response = await request(url, {
      dispatcher: agent,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Tessera-Webhooks/1',
        'tessera-delivery': delivery.id,
        'tessera-event': delivery.event_type,
        [SIGNATURE_HEADER]: signatureHeader(secrets, body, now),
      },
      body,
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    // The body is not ours to keep; read a little so the connection can be reused.
    await response.body.dump({ limit: 4_096 }).catch(() => undefined);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return done(response.statusCode, ok ? null : `HTTP ${response.statusCode}`);
  } catch (error) {
    return done(null, describe(error, settings.timeoutMs));
  }
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (cause instanceof BlockedAddressError) return `refused to connect: ${cause.message}`;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code}: ${cause.message}` : cause.message;
  }
  return 'the request failed';
}

/**
 * Appends the attempt to the log and moves the delivery on, under its row lock. An outcome whose
 * claim was superseded (the delivery was redelivered or its webhook deleted meanwhile) is logged
 * but leaves the delivery's state to the newer round. The webhook's health moves with it
 * (health.ts): a failure marks it failing, and a given-up delivery of a webhook failing for
 * long enough switches it off and tells its company's managers; a success clears the mark.
 */
async function settle(
  { db, clock, logger }: EngagementContext,
  settings: WebhookSettings,
  { id: deliveryId, webhook_id: webhookId }: Pick<DeliveryRow, 'id' | 'webhook_id'>,
  claim: string,
  outcome: Outcome,
): Promise<void> {
  const succeeded = outcome.error === null;
  await db.transaction().execute(async (trx) => {
    const now = clock();
    // The webhook's row before the delivery's, the order a change to the webhook takes them in
    // (a deletion locks the webhook, then cancels its deliveries): never a crosswise wait. A
    // success takes it only when the webhook was marked failing.
    const webhook = succeeded || outcome.ours ? undefined : await lockWebhookHealth(trx, webhookId);
    if (succeeded) await markRecovered(trx, webhookId);
    const delivery = await trx
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', deliveryId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const number = delivery.attempts + 1;
    await trx
      .insertInto('webhook_delivery_attempts')
      .values({
        delivery_id: deliveryId,
        attempt: number,
        status_code: outcome.statusCode,
        error: outcome.error,
        duration_ms: outcome.durationMs,
        at: now,
      })
      .execute();
    const holds = delivery.claim === claim && delivery.status === 'pending';
    const state = holds
      ? afterAttempt({
          succeeded,
          attemptInRound: number - delivery.round_start,
          maxAttempts: settings.maxAttempts,
          retryBaseMs: settings.retryBaseMs,
          now,
        })
      : undefined;
    await trx
      .updateTable('webhook_deliveries')
      .set({
        attempts: number,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        updated_at: now,
        ...(state === undefined
          ? {}
          : {
              status: state.status,
              claim: null,
              next_attempt_at: state.status === 'pending' ? state.nextAttemptAt : null,
              ...(state.status === 'delivered' ? { delivered_at: now } : {}),
            }),
      })
      .where('id', '=', deliveryId)
      .execute();
    if (webhook && webhook.deleted_at === null) {
      const health = healthAfterFailure({
        failingSince: webhook.failing_since,
        givenUp: state?.status === 'failed',
        active: webhook.active,
        now,
        disableAfterMs: settings.disableAfterMs,
      });
      if (health.disable) {
        await switchOff(trx, webhook, health.failingSince, now);
        logger.warn(
          { webhook_id: webhook.id, company_id: webhook.company_id, failing_since: health.failingSince },
          'webhook switched off: its deliveries have failed for too long',
        );
      } else if (webhook.failing_since === null) {
        await trx
          .updateTable('webhooks')
          .set({ failing_since: health.failingSince })
          .where('id', '=', webhook.id)
          .execute();
      }
    }
  });
}

/** Switches a failing webhook off and tells each of its company's managers, once. */
async function switchOff(
  trx: Kysely<EngagementDB>,
  webhook: WebhookHealthRow,
  failingSince: Date,
  now: Date,
): Promise<void> {
  await trx
    .updateTable('webhooks')
    .set({
      active: false,
      failing_since: failingSince,
      disabled_at: now,
      disabled_reason: 'failing',
      updated_at: now,
    })
    .where('id', '=', webhook.id)
    .execute();
  const host = URL.canParse(webhook.url) ? new URL(webhook.url).host : 'its URL';
  for (const userId of await managersOf(trx, webhook.company_id)) {
    await notify(
      trx,
      {
        userId,
        kind: 'webhook_disabled',
        title: 'A webhook was switched off',
        body:
          `Deliveries to ${host} have failed for ${duration(now.getTime() - failingSince.getTime())}, ` +
          'so the webhook was switched off. ' +
          'Fix the endpoint, then switch it on again: deliveries still due wait for it.',
        data: { company_id: webhook.company_id, webhook_id: webhook.id },
        sourceKey: `webhook-disabled:${webhook.id}:${now.toISOString()}`,
      },
      now,
    );
  }
}

/** `3 days`, `5 hours`, `1 hour`: how long a webhook failed, for people. */
function duration(ms: number): string {
  const hours = Math.max(1, Math.round(ms / 3_600_000));
  if (hours < 48) return hours === 1 ? '1 hour' : `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}
