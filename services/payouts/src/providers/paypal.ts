import type { Logger } from '@tessera/service-kit';
import { request, type Dispatcher } from 'undici';
import type {
  NotificationCheck,
  PayoutLookup,
  PayoutOrder,
  PayoutProvider,
  PayoutStatus,
  ProviderNotification,
} from './provider.ts';

/**
 * PayPal Payouts API v1 (https://developer.paypal.com/api/payments.payouts-batch/v1/): one batch of
 * one item per withdrawal, paid to the PayPal account of an email address.
 *
 * Idempotency. The withdrawal id is the batch's `sender_batch_id`, the item's `sender_item_id` and
 * the `PayPal-Request-Id` header. PayPal refuses a `sender_batch_id` used in the last 30 days (400
 * `USER_BUSINESS_ERROR`, detail field `SENDER_BATCH_ID`, "Batch with given sender_batch_id already
 * exists", with a HATEOAS link to the original batch); a repeated `PayPal-Request-Id` answers the
 * original response (kept 30 days). Either way a repeated send never creates a second payout, and
 * the answer names the batch that was created, which is then asked for its status.
 *
 * Finding the batch. PayPal cannot look a batch up by `sender_batch_id`. `send` answers `pending`
 * with `externalId` = the `payout_batch_id`; the caller stores it and passes it back as
 * `order.externalId`, and `status` reads `GET /v1/payments/payouts/{id}`. Without it (the answer
 * was lost in a crash), `status` posts the same batch again: the duplicate refusal (or the request
 * id replay) names the original batch, and if the first post never reached PayPal this one is the
 * payout. That fallback relies on PayPal's 30-day duplicate window, so store the `externalId`:
 * the provider says its window is `PAYPAL_RESEND_WINDOW_MS` (25 days after the first send), and the
 * sender never sends an unnamed payout again past it (withdrawals/decide.ts `resendAllowed`). A
 * duplicate refusal that does not link the original batch answers `unconfirmed`: never `pending`
 * (which would make the sender post again at every poll, and after the window pay twice), never
 * `failed` (the money may be out). The sender parks it for an operator.
 *
 * Statuses (of the item; the batch's only when it has no item yet): SUCCESS → `completed` (the
 * transaction id); PENDING, ONHOLD, NEW and UNCLAIMED → `pending`. UNCLAIMED (the email has no
 * PayPal account yet) stays pending on purpose: the receiver can still claim it, and if nobody
 * does PayPal returns the money after 30 days and the item turns RETURNED, which is `failed`.
 * FAILED, RETURNED, BLOCKED, REFUNDED, REVERSED → `failed`, with the item's `errors.name` as the
 * reason. Timeouts, network errors, 5xx, 429 → `retry` (the caller backs off); a 401 refreshes
 * the access token once and tries again. Reading a batch that exists answers `retry` to every
 * error, never `failed`: only a final status of the item (or of the batch) fails a payout PayPal
 * holds.
 *
 * Logs name the withdrawal, the batch and statuses only: never the receiver, the amount or a token.
 */
export interface PayPalProviderOptions {
  /** `https://api-m.sandbox.paypal.com` or `https://api-m.paypal.com`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  logger: Logger;
  /** The most one HTTP call (headers and body) may take. */
  timeoutMs?: number;
  /** How long before `expires_in` a cached access token is replaced. */
  tokenRefreshMarginMs?: number;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
  /** The undici dispatcher (the global one by default). */
  dispatcher?: Dispatcher;
  /**
   * The id of the webhook PayPal sends payout events to (its developer portal names it). Without
   * it, notifications are not taken: pending payouts are only polled.
   */
  webhookId?: string;
}

/** The transmission headers PayPal signs a webhook with, as verification names them. */
const TRANSMISSION_HEADERS = {
  auth_algo: 'paypal-auth-algo',
  cert_url: 'paypal-cert-url',
  transmission_id: 'paypal-transmission-id',
  transmission_sig: 'paypal-transmission-sig',
  transmission_time: 'paypal-transmission-time',
} as const;

/**
 * The payouts a PayPal webhook event is about: an item event (`PAYMENT.PAYOUTS-ITEM.*`) carries the
 * item, with its batch's `sender_batch_id` (the withdrawal id) and `payout_batch_id`; a batch event
 * (`PAYMENT.PAYOUTSBATCH.*`) its batch header. Any other event names none.
 */
export function payoutsNamed(event: Record<string, unknown>): {
  withdrawalIds: string[];
  externalIds: string[];
} {
  const type = text(event.event_type) ?? '';
  if (!type.startsWith('PAYMENT.PAYOUTS-ITEM.') && !type.startsWith('PAYMENT.PAYOUTSBATCH.'))
    return { withdrawalIds: [], externalIds: [] };
  const resource = record(event.resource);
  const header = record(resource.batch_header);
  const present = (values: unknown[]) => [...new Set(values.map(text).filter((v) => v !== undefined))];
  return {
    withdrawalIds: present([
      resource.sender_batch_id,
      record(resource.payout_item).sender_item_id,
      record(header.sender_batch_header).sender_batch_id,
    ]),
    externalIds: present([resource.payout_batch_id, header.payout_batch_id]),
  };
}

/**
 * How long after the first send a repeated one is still refused by PayPal as a duplicate (its window
 * is 30 days; 5 are kept as a margin for clocks and for a batch created later than `sent_at`).
 */
export const PAYPAL_RESEND_WINDOW_MS = 25 * 86_400_000;

/** The failure reason for methods PayPal cannot pay (bank transfers, crypto). */
export const METHOD_NOT_SUPPORTED_BY_PROVIDER = 'METHOD_NOT_SUPPORTED_BY_PROVIDER';
export const CURRENCY_NOT_SUPPORTED_BY_PROVIDER = 'CURRENCY_NOT_SUPPORTED_BY_PROVIDER';

/**
 * Currencies PayPal pays with two decimals. HUF, JPY and TWD take no decimals at PayPal and are
 * refused here rather than converted (the platform's amounts are in hundredths).
 */
const TWO_DECIMAL_CURRENCIES = new Set([
  'AUD',
  'BRL',
  'CAD',
  'CHF',
  'CNY',
  'CZK',
  'DKK',
  'EUR',
  'GBP',
  'HKD',
  'ILS',
  'MXN',
  'MYR',
  'NOK',
  'NZD',
  'PHP',
  'PLN',
  'SEK',
  'SGD',
  'THB',
  'USD',
]);

/** Minor units as PayPal's decimal string, in integers only: 1 → '0.01', 12345 → '123.45'. */
export function toPayPalValue(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor <= 0)
    throw new RangeError('expected a positive integer of minor units');
  const units = BigInt(minor);
  return `${units / 100n}.${(units % 100n).toString().padStart(2, '0')}`;
}

const PENDING_STATUSES = new Set(['PENDING', 'UNCLAIMED', 'ONHOLD', 'NEW']);
const FAILED_STATUSES = new Set(['FAILED', 'RETURNED', 'BLOCKED', 'REFUNDED', 'REVERSED']);
/** Sender-side refusals that topping up or fixing the platform's PayPal account lets pass. */
const RETRYABLE_ERROR_NAMES = new Set(['INSUFFICIENT_FUNDS', 'RATE_LIMIT_REACHED', 'INTERNAL_SERVICE_ERROR']);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A PayPal answer that may pass later: the caller backs off and asks again. */
class Retry extends Error {
  constructor(
    readonly reason: string,
    readonly httpStatus?: number,
  ) {
    super(reason);
  }
}

interface Reply {
  status: number;
  body: unknown;
}

interface PayPalError {
  name?: string;
  message?: string;
  details?: { field?: string; issue?: string; link?: { href?: string }[]; links?: { href?: string }[] }[];
  links?: { href?: string }[];
}

interface PayoutItemView {
  payout_item_id?: string;
  transaction_id?: string;
  transaction_status?: string;
  errors?: { name?: string; message?: string };
}

interface BatchView {
  batch_header?: {
    payout_batch_id?: string;
    batch_status?: string;
    sender_batch_header?: { sender_batch_id?: string };
  };
  items?: PayoutItemView[];
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/** Error messages may quote what was sent: keep them short and without addresses. */
function clean(message: string | undefined): string {
  return (message ?? '').replace(/[^\s@]+@[^\s@]+/g, '[redacted]').slice(0, 300);
}

/** The original batch's id from a duplicate refusal's HATEOAS link (read, never followed). */
function linkedBatchId(error: PayPalError): string | undefined {
  const links = [
    ...(error.links ?? []),
    ...(error.details ?? []).flatMap((detail) => [...(detail.link ?? []), ...(detail.links ?? [])]),
  ];
  for (const link of links) {
    const match = /\/v1\/payments\/payouts\/([A-Za-z0-9_-]+)(?:[/?#]|$)/.exec(text(link.href) ?? '');
    if (match?.[1]) return match[1];
  }
  return undefined;
}

function isDuplicateBatch(error: PayPalError): boolean {
  const mentions = (value: string | undefined) =>
    /sender_batch_id already exists|duplicate batch/i.test(value ?? '');
  return (
    mentions(error.message) ||
    (error.details ?? []).some(
      (detail) => detail.field?.toUpperCase() === 'SENDER_BATCH_ID' || mentions(detail.issue),
    )
  );
}

export function paypalProvider(options: PayPalProviderOptions): PayoutProvider {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const refreshMarginMs = options.tokenRefreshMarginMs ?? 60_000;
  const now = options.now ?? Date.now;
  const logger = options.logger.child({ provider: 'paypal' });
  const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');

  let token: { value: string; expiresAt: number } | null = null;
  let fetching: Promise<string> | null = null;

  async function http(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string) {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await request(`${base}${path}`, {
        method,
        headers,
        body,
        signal,
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      const raw = await response.body.text();
      let parsed: unknown = undefined;
      try {
        parsed = raw ? JSON.parse(raw) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.statusCode, body: parsed } satisfies Reply;
    } catch {
      // undici's errors carry no body; still, only the kind of failure leaves this function.
      throw new Retry(signal.aborted ? 'TIMEOUT' : 'NETWORK_ERROR');
    }
  }

  async function fetchToken(): Promise<string> {
    const reply = await http(
      'POST',
      '/v1/oauth2/token',
      {
        authorization: `Basic ${basic}`,
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
      },
      'grant_type=client_credentials',
    );
    if (reply.status === 429 || reply.status >= 500)
      throw new Retry(`TOKEN_HTTP_${reply.status}`, reply.status);
    const body = record(reply.body);
    const value = text(body.access_token);
    if (reply.status !== 200 || !value) {
      logger.error({ httpStatus: reply.status }, 'paypal refused the client credentials');
      throw new Retry('PAYPAL_AUTH_FAILED', reply.status);
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 0) * 1000;
    token = { value, expiresAt: now() + lifetimeMs - Math.min(refreshMarginMs, lifetimeMs / 2) };
    return value;
  }

  /** The cached access token, or a new one (concurrent callers share one token request). */
  async function accessToken(): Promise<string> {
    if (token && now() < token.expiresAt) return token.value;
    fetching ??= fetchToken().finally(() => {
      fetching = null;
    });
    return fetching;
  }

  /** An authorized API call: a 401 drops the token and tries once more with a new one. */
  async function api(
    method: 'GET' | 'POST',
    path: string,
    extra: Record<string, string> = {},
    body?: unknown,
  ) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const attempt = async () => {
      const bearer = await accessToken();
      const reply = await http(
        method,
        path,
        {
          authorization: `Bearer ${bearer}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...extra,
        },
        payload,
      );
      return { reply, bearer };
    };
    let { reply, bearer } = await attempt();
    if (reply.status === 401) {
      if (token?.value === bearer) token = null;
      logger.info(
        { path: path.split('/').slice(0, 4).join('/') },
        'paypal answered 401: refreshing the token',
      );
      ({ reply, bearer } = await attempt());
      if (reply.status === 401) throw new Retry('UNAUTHORIZED', 401);
    }
    if (reply.status === 429) throw new Retry('RATE_LIMITED', 429);
    if (reply.status >= 500 || reply.status === 408) throw new Retry(`HTTP_${reply.status}`, reply.status);
    return reply;
  }

  function refusal(reply: Reply, withdrawalId: string): PayoutStatus {
    const error = record(reply.body) as PayPalError;
    const name = text(error.name) ?? `HTTP_${reply.status}`;
    if (RETRYABLE_ERROR_NAMES.has(name)) throw new Retry(name, reply.status);
    logger.warn({ withdrawalId, httpStatus: reply.status, reasonCode: name }, 'paypal refused the payout');
    return {
      kind: 'failed',
      reasonCode: name,
      detail: clean(text(error.message) ?? `PayPal answered ${reply.status}`),
    };
  }

  function fromItem(item: PayoutItemView, batchId: string, withdrawalId: string): PayoutStatus {
    const status = text(item.transaction_status)?.toUpperCase() ?? 'PENDING';
    if (status === 'SUCCESS') {
      const externalId = text(item.transaction_id) ?? text(item.payout_item_id) ?? batchId;
      return { kind: 'completed', externalId };
    }
    if (FAILED_STATUSES.has(status)) {
      const reasonCode = text(item.errors?.name) ?? status;
      const detail = clean(`${status}${item.errors?.message ? `: ${item.errors.message}` : ''}`);
      return { kind: 'failed', reasonCode, detail };
    }
    if (!PENDING_STATUSES.has(status)) {
      logger.warn(
        { withdrawalId, batchId, itemStatus: status },
        'unknown paypal item status: treated as pending',
      );
    }
    return { kind: 'pending', externalId: batchId };
  }

  /**
   * Where a batch stands: its one item decides; the batch's own status until the item exists. The
   * batch exists, so the payout may be under way whatever PayPal answers to this read: an error
   * here (any status but 200) is never `failed`, only the item's or the batch's own status is.
   */
  async function batchStatus(batchId: string, withdrawalId: string): Promise<PayoutStatus> {
    const reply = await api('GET', `/v1/payments/payouts/${encodeURIComponent(batchId)}`);
    if (reply.status === 404) throw new Retry('BATCH_NOT_FOUND', 404);
    if (reply.status !== 200) throw new Retry(`HTTP_${reply.status}`, reply.status);
    const view = record(reply.body) as BatchView;
    const header = view.batch_header ?? {};
    const sender = header.sender_batch_header?.sender_batch_id;
    if (sender !== undefined && sender !== withdrawalId) {
      logger.error({ withdrawalId, batchId }, 'paypal batch belongs to another withdrawal');
      throw new Retry('BATCH_MISMATCH');
    }
    const state = text(header.batch_status)?.toUpperCase() ?? 'PENDING';
    const item = view.items?.[0];
    let result: PayoutStatus;
    if (item) {
      result = fromItem(item, batchId, withdrawalId);
      if (state === 'DENIED' && result.kind !== 'completed' && result.kind !== 'failed') {
        result = {
          kind: 'failed',
          reasonCode: text(item.errors?.name) ?? 'BATCH_DENIED',
          detail: 'PayPal denied the batch',
        };
      }
    } else if (state === 'DENIED' || state === 'CANCELED') {
      result = {
        kind: 'failed',
        reasonCode: `BATCH_${state}`,
        detail: `PayPal batch ${state.toLowerCase()}`,
      };
    } else {
      result = { kind: 'pending', externalId: batchId };
    }
    logger.info(
      {
        withdrawalId,
        batchId,
        batchStatus: state,
        itemStatus: item?.transaction_status ?? null,
        result: result.kind,
      },
      'paypal payout status',
    );
    return result;
  }

  /** Posts the withdrawal's batch (idempotent by its id) and says where it stands. */
  async function post(order: PayoutOrder, receiver: string, value: string): Promise<PayoutStatus> {
    const { withdrawalId } = order;
    const reply = await api(
      'POST',
      '/v1/payments/payouts',
      { 'paypal-request-id': withdrawalId },
      {
        sender_batch_header: { sender_batch_id: withdrawalId, recipient_type: 'EMAIL' },
        items: [
          {
            recipient_type: 'EMAIL',
            receiver,
            amount: { value, currency: order.amount.currency },
            sender_item_id: withdrawalId,
          },
        ],
      },
    );
    if (reply.status === 200 || reply.status === 201) {
      const header = (record(reply.body) as BatchView).batch_header ?? {};
      const batchId = text(header.payout_batch_id);
      if (!batchId) throw new Retry('UNEXPECTED_RESPONSE', reply.status);
      const state = text(header.batch_status)?.toUpperCase() ?? 'PENDING';
      logger.info({ withdrawalId, batchId, batchStatus: state }, 'paypal payout batch accepted');
      if (state === 'PENDING' || state === 'PROCESSING') return { kind: 'pending', externalId: batchId };
      return batchStatus(batchId, withdrawalId);
    }
    const error = record(reply.body) as PayPalError;
    if (reply.status >= 400 && reply.status < 500 && isDuplicateBatch(error)) {
      const batchId = linkedBatchId(error);
      if (!batchId) {
        // Paid at most once, but where is unknown: never `failed` (the money may be out), never
        // posted again (past PayPal's duplicate window a repeat would be a second payout). Someone
        // has to look it up in PayPal's dashboard.
        logger.error(
          { withdrawalId },
          'paypal batch already exists but its id was not given: reconcile by hand',
        );
        return { kind: 'unconfirmed', reason: 'DUPLICATE_BATCH_NOT_NAMED' };
      }
      logger.info({ withdrawalId, batchId }, 'paypal payout batch already exists: asking its status');
      return batchStatus(batchId, withdrawalId);
    }
    return refusal(reply, withdrawalId);
  }

  /** What PayPal cannot be asked to pay at all, or the email and amount it can. */
  function payable(order: PayoutOrder): PayoutStatus | { receiver: string; value: string } {
    if (order.method.type !== 'paypal') {
      return {
        kind: 'failed',
        reasonCode: METHOD_NOT_SUPPORTED_BY_PROVIDER,
        detail: `PayPal cannot pay a ${order.method.type} method`,
      };
    }
    const currency = order.amount.currency;
    if (!TWO_DECIMAL_CURRENCIES.has(currency)) {
      return {
        kind: 'failed',
        reasonCode: CURRENCY_NOT_SUPPORTED_BY_PROVIDER,
        detail: `PayPal payouts are not set up for ${/^[A-Z]{3}$/.test(currency) ? currency : 'this currency'}`,
      };
    }
    if (!Number.isSafeInteger(order.amount.amount) || order.amount.amount <= 0) {
      return { kind: 'failed', reasonCode: 'INVALID_AMOUNT', detail: 'the amount is not a positive integer' };
    }
    const receiver = text(order.method.details.email)?.trim();
    if (!receiver || !EMAIL.test(receiver)) {
      return {
        kind: 'failed',
        reasonCode: 'INVALID_METHOD_DETAILS',
        detail: 'the PayPal method has no email',
      };
    }
    return { receiver, value: toPayPalValue(order.amount.amount) };
  }

  async function settle(order: PayoutLookup, run: () => Promise<PayoutStatus>): Promise<PayoutStatus> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof Retry) {
        logger.warn(
          {
            withdrawalId: order.withdrawalId,
            batchId: order.externalId ?? null,
            reason: error.reason,
            httpStatus: error.httpStatus,
          },
          'paypal call to be retried',
        );
        return { kind: 'retry', reason: error.reason };
      }
      logger.error(
        { withdrawalId: order.withdrawalId, error: error instanceof Error ? error.name : typeof error },
        'paypal provider failed unexpectedly',
      );
      return { kind: 'retry', reason: 'UNEXPECTED_ERROR' };
    }
  }

  /** Known batch: ask it. Unknown: post the batch, which is safe to repeat. */
  function resolve(order: PayoutOrder): Promise<PayoutStatus> {
    return settle(order, async () => {
      const target = payable(order);
      if ('kind' in target) return target;
      if (order.externalId) return batchStatus(order.externalId, order.withdrawalId);
      return post(order, target.receiver, target.value);
    });
  }

  /**
   * Asks PayPal whether it sent this webhook (`POST /v1/notifications/verify-webhook-signature`,
   * with the transmission headers, our webhook id and the event as received): only then are the
   * payouts it names trusted to be worth asking about. What it says of them is never taken as is:
   * the sender reads each one's status from PayPal.
   */
  async function checkNotification(
    webhookId: string,
    { headers, event }: ProviderNotification,
  ): Promise<NotificationCheck> {
    const transmission: Record<string, string> = {};
    for (const [field, header] of Object.entries(TRANSMISSION_HEADERS)) {
      const value = headers[header];
      if (!value) return { kind: 'forged' };
      transmission[field] = value;
    }
    try {
      const reply = await api(
        'POST',
        '/v1/notifications/verify-webhook-signature',
        {},
        {
          ...transmission,
          webhook_id: webhookId,
          webhook_event: event,
        },
      );
      const verified = reply.status === 200 && text(record(reply.body).verification_status) === 'SUCCESS';
      if (!verified) {
        logger.warn({ httpStatus: reply.status }, 'paypal did not verify a webhook notification');
        return { kind: 'forged' };
      }
      return { kind: 'verified', ...payoutsNamed(event) };
    } catch (error) {
      if (error instanceof Retry) return { kind: 'retry', reason: error.reason };
      throw error;
    }
  }

  /** A batch PayPal named is read by its id alone: no email needed (the details may be erased). */
  function status(lookup: PayoutLookup): Promise<PayoutStatus> {
    if (lookup.method) return resolve(lookup);
    return settle(lookup, () => batchStatus(lookup.externalId, lookup.withdrawalId));
  }

  return {
    name: 'paypal',
    manual: false,
    resendWindowMs: PAYPAL_RESEND_WINDOW_MS,
    send: resolve,
    status,
    ...(options.webhookId
      ? {
          checkNotification: (notification: ProviderNotification) =>
            checkNotification(options.webhookId!, notification),
        }
      : {}),
  };
}
