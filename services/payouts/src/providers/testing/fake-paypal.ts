import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for PayPal's OAuth2 token endpoint and Payouts API v1, answering as PayPal
 * documents it: `POST /v1/oauth2/token` (basic auth, `grant_type=client_credentials`),
 * `POST /v1/payments/payouts` (201 with a PENDING batch; a `sender_batch_id` seen before is refused
 * with 400 USER_BUSINESS_ERROR and a link to the original; a `PayPal-Request-Id` seen before
 * replays the original answer), `GET /v1/payments/payouts/{id}` and
 * `GET /v1/payments/payouts-item/{id}`. Switches make it fail the way PayPal can. Webhooks: `delivery`
 * makes what PayPal POSTs for an event (its transmission headers and body), and
 * `POST /v1/notifications/verify-webhook-signature` answers SUCCESS only for a transmission it sent,
 * unchanged, to the webhook id it was configured with (as PayPal checks its own signature).
 */

export type Route = 'token' | 'create' | 'batch' | 'item' | 'verify';

/** One state an item shows, in order, one per read; the last one stays. */
export interface ItemStep {
  status:
    | 'SUCCESS'
    | 'FAILED'
    | 'PENDING'
    | 'UNCLAIMED'
    | 'RETURNED'
    | 'ONHOLD'
    | 'BLOCKED'
    | 'REFUNDED'
    | 'REVERSED';
  error?: { name: string; message: string };
}

interface Item {
  payout_item_id: string;
  transaction_id: string;
  sender_item_id: string;
  receiver: string;
  recipient_type: string;
  amount: { value: string; currency: string };
  script: ItemStep[];
  reads: number;
}

interface Batch {
  id: string;
  senderBatchId: string;
  item: Item;
  created: string;
}

interface Failure {
  route: Route | 'any';
  status: number;
  body: unknown;
  times: number;
}

interface Delay {
  route: Route | 'any';
  ms: number;
  times: number;
}

const id = (length = 13) =>
  Array.from(randomBytes(length), (byte) => 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[byte % 32]).join('');

const errorBody = (name: string, message: string, details: unknown[] = []) => ({
  name,
  message,
  debug_id: id(13).toLowerCase(),
  information_link: 'https://developer.paypal.com/docs/api/payments.payouts-batch/#errors',
  details,
  links: [],
});

export class FakePayPal {
  readonly clientId = 'fake-client-id';
  readonly clientSecret = 'fake-client-secret';
  url = '';
  /** Seconds a token lives (PayPal answers about 32400). */
  tokenLifetimeSeconds = 32_400;
  /** How the next created batch's item behaves. */
  nextItem: ItemStep[] = [{ status: 'SUCCESS' }];
  /** PayPal documents the request id replay; its sandbox has been seen to ignore it for payouts. */
  honourRequestId = true;
  /** Whether a duplicate `sender_batch_id` refusal links the original batch (false: no link given). */
  duplicateLink = true;

  /** The id of the webhook PayPal sends to (as configured in PayPal's developer portal). */
  readonly webhookId = 'FAKEWEBHOOK4Q9X2B';
  /** Batches created: a repeated send must not add one. */
  payoutsCreated = 0;
  /** Verifications asked, and how many of them were SUCCESS. */
  verifications = { asked: 0, verified: 0 };
  tokensIssued = 0;
  /** Every request: route, method, path and the PayPal-Request-Id (never bodies). */
  readonly requests: { route: Route | 'unknown'; method: string; path: string; requestId?: string }[] = [];

  private readonly server: Server;
  private readonly tokens = new Set<string>();
  private readonly batches = new Map<string, Batch>();
  private readonly bySender = new Map<string, Batch>();
  private readonly byRequestId = new Map<string, { status: number; body: unknown }>();
  private readonly items = new Map<string, { batch: Batch; item: Item }>();
  private failures: Failure[] = [];
  private delays: Delay[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** What each transmission sent: its signature and its event, as verification compares them. */
  private readonly transmissions = new Map<string, { sig: string; event: string }>();

  constructor() {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Forgets switches and counters (batches stay, as at PayPal). */
  reset(): void {
    this.failures = [];
    this.delays = [];
    this.nextItem = [{ status: 'SUCCESS' }];
    this.honourRequestId = true;
    this.duplicateLink = true;
    this.tokenLifetimeSeconds = 32_400;
    this.payoutsCreated = 0;
    this.tokensIssued = 0;
    this.verifications = { asked: 0, verified: 0 };
    this.requests.length = 0;
  }

  /**
   * The webhook event PayPal sends when the withdrawal's payout item reaches `status` (and the item
   * shows that status from now on): `PAYMENT.PAYOUTS-ITEM.<type>` with the item as its resource.
   */
  itemEvent(senderBatchId: string, type: string, status: ItemStep['status']): Record<string, unknown> {
    const batch = this.setItem(senderBatchId, status);
    return {
      id: `WH-${id(17)}-${id(17)}`,
      event_version: '1.0',
      create_time: new Date().toISOString(),
      resource_type: 'payouts_item',
      event_type: `PAYMENT.PAYOUTS-ITEM.${type}`,
      summary: `A payout item has ${type.toLowerCase()}`,
      resource: this.itemView(batch, batch.item, { status }),
      links: [
        { href: `${this.url}/v1/notifications/webhooks-events/WH-${id(10)}`, rel: 'self', method: 'GET' },
      ],
    };
  }

  /** The withdrawal's payout item shows `status` from now on. */
  setItem(senderBatchId: string, status: ItemStep['status']): Batch {
    const batch = this.bySender.get(senderBatchId);
    if (!batch) throw new Error(`no batch for ${senderBatchId}`);
    batch.item.script = [{ status }];
    batch.item.reads = 0;
    return batch;
  }

  /**
   * What PayPal's webhook POSTs for `event`: its body and headers, signed by this fake (it verifies
   * the transmission later). `forged`: a signature it never made, as anyone else posting can send.
   */
  delivery(
    event: Record<string, unknown>,
    options: { forged?: boolean } = {},
  ): { headers: Record<string, string>; body: string } {
    const transmissionId = randomUUID();
    const sig = randomBytes(64).toString('base64');
    const body = JSON.stringify(event);
    if (!options.forged) this.transmissions.set(transmissionId, { sig, event: body });
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'paypal-auth-algo': 'SHA256withRSA',
        'paypal-cert-url': `${this.url}/v1/notifications/certs/CERT-360caa42-fca2a594-${id(8).toLowerCase()}`,
        'paypal-transmission-id': transmissionId,
        'paypal-transmission-sig': sig,
        'paypal-transmission-time': new Date().toISOString(),
      },
    };
  }

  /** The next `times` requests to `route` answer `status` with PayPal's error body. */
  fail(
    route: Route | 'any',
    status: number,
    options: { name?: string; message?: string; times?: number } = {},
  ): void {
    const name =
      options.name ??
      (status === 429 ? 'RATE_LIMIT_REACHED' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'VALIDATION_ERROR');
    const message =
      options.message ??
      (status === 429
        ? 'Too many requests. Blocked due to rate limiting.'
        : status >= 500
          ? 'An internal server error has occurred.'
          : 'Invalid request - see details.');
    this.failures.push({ route, status, body: errorBody(name, message), times: options.times ?? 1 });
  }

  /** The next `times` requests to `route` wait `ms` before answering. */
  slow(route: Route | 'any', ms: number, times = 1): void {
    this.delays.push({ route, ms, times });
  }

  /** What was asked for a withdrawal (the batch with that sender_batch_id), as PayPal holds it. */
  payoutFor(senderBatchId: string) {
    const batch = this.bySender.get(senderBatchId);
    if (!batch) return undefined;
    const { receiver, amount, recipient_type: recipientType, sender_item_id: senderItemId } = batch.item;
    return { batchId: batch.id, receiver, amount, recipientType, senderItemId };
  }

  /**
   * PayPal's 30-day windows pass for every batch made so far: a `sender_batch_id` or a
   * `PayPal-Request-Id` used before is no longer recognised, and a repeated post makes a new payout.
   */
  duplicateWindowPassed(): void {
    this.bySender.clear();
    this.byRequestId.clear();
  }

  /** Every token issued so far stops working (expired or revoked): the next API call gets a 401. */
  expireTokens(): void {
    this.tokens.clear();
  }

  private take<T extends { route: Route | 'any'; times: number }>(list: T[], route: Route): T | undefined {
    const found = list.find((entry) => entry.route === route || entry.route === 'any');
    if (found && --found.times <= 0) list.splice(list.indexOf(found), 1);
    return found;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const route: Route | 'unknown' =
      method === 'POST' && path === '/v1/oauth2/token'
        ? 'token'
        : method === 'POST' && path === '/v1/payments/payouts'
          ? 'create'
          : method === 'GET' && path.startsWith('/v1/payments/payouts/')
            ? 'batch'
            : method === 'GET' && path.startsWith('/v1/payments/payouts-item/')
              ? 'item'
              : method === 'POST' && path === '/v1/notifications/verify-webhook-signature'
                ? 'verify'
                : 'unknown';
    const requestId = req.headers['paypal-request-id'];
    this.requests.push({ route, method, path, ...(typeof requestId === 'string' ? { requestId } : {}) });

    const send = (status: number, body: unknown) => {
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(status, { 'content-type': 'application/json', 'paypal-debug-id': id(13).toLowerCase() });
      res.end(JSON.stringify(body));
    };
    if (route === 'unknown')
      return send(404, errorBody('NOT_FOUND', 'The specified resource does not exist.'));

    const delay = this.take(this.delays, route);
    if (delay) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, delay.ms);
        this.timers.add(timer);
      });
      // A caller that gave up still reached PayPal: the request is handled, the answer is lost.
    }
    const failure = this.take(this.failures, route);
    if (failure) return send(failure.status, failure.body);

    if (route === 'token') return this.token(req, raw, send);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !this.tokens.has(bearer)) {
      return send(401, { error: 'invalid_token', error_description: 'Token signature verification failed' });
    }
    if (route === 'create')
      return this.create(raw, typeof requestId === 'string' ? requestId : undefined, send);
    if (route === 'verify') return this.verify(raw, send);
    if (route === 'batch') {
      const batch = this.batches.get(decodeURIComponent(path.slice('/v1/payments/payouts/'.length)));
      if (!batch)
        return send(404, errorBody('INVALID_RESOURCE_ID', 'The requested resource ID was not found'));
      return send(200, this.batchView(batch));
    }
    const found = this.items.get(decodeURIComponent(path.slice('/v1/payments/payouts-item/'.length)));
    if (!found) return send(404, errorBody('INVALID_RESOURCE_ID', 'The requested resource ID was not found'));
    return send(200, this.itemView(found.batch, found.item));
  }

  private token(req: IncomingMessage, raw: string, send: (status: number, body: unknown) => void): void {
    const expected = `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      return send(401, { error: 'invalid_client', error_description: 'Client Authentication failed' });
    }
    if (new URLSearchParams(raw).get('grant_type') !== 'client_credentials') {
      return send(400, { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' });
    }
    const accessToken = `A21AA${id(40)}`;
    this.tokens.add(accessToken);
    this.tokensIssued += 1;
    send(200, {
      scope: 'https://uri.paypal.com/services/payments/payouts',
      access_token: accessToken,
      token_type: 'Bearer',
      app_id: 'APP-80W284485P519543T',
      expires_in: this.tokenLifetimeSeconds,
      nonce: `${new Date().toISOString()}${id(20)}`,
    });
  }

  private create(
    raw: string,
    requestId: string | undefined,
    send: (status: number, body: unknown) => void,
  ): void {
    if (requestId && this.honourRequestId) {
      const replay = this.byRequestId.get(requestId);
      if (replay) return send(replay.status, replay.body);
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return send(400, errorBody('MALFORMED_REQUEST', 'Incoming JSON request does not map to API request'));
    }
    const header = (body.sender_batch_header ?? {}) as Record<string, unknown>;
    const items = Array.isArray(body.items) ? (body.items as Record<string, unknown>[]) : [];
    const problems: { field: string; location: string; issue: string }[] = [];
    if (typeof header.sender_batch_id !== 'string' || !header.sender_batch_id) {
      problems.push({
        field: 'sender_batch_header.sender_batch_id',
        location: 'body',
        issue: 'Required field missing',
      });
    }
    if (items.length < 1 || items.length > 15_000) {
      problems.push({ field: 'items', location: 'body', issue: 'Must have between 1 and 15000 items' });
    }
    items.forEach((item, index) => {
      const amount = (item.amount ?? {}) as Record<string, unknown>;
      const type = item.recipient_type ?? header.recipient_type;
      if (type !== 'EMAIL' && type !== 'PHONE' && type !== 'PAYPAL_ID') {
        problems.push({
          field: `items[${index}].recipient_type`,
          location: 'body',
          issue: 'Value is invalid',
        });
      }
      if (typeof amount.value !== 'string' || !/^\d{1,7}(\.\d{1,2})?$/.test(amount.value)) {
        problems.push({ field: `items[${index}].amount.value`, location: 'body', issue: 'Value is invalid' });
      }
      if (typeof amount.currency !== 'string' || !/^[A-Z]{3}$/.test(amount.currency)) {
        problems.push({
          field: `items[${index}].amount.currency`,
          location: 'body',
          issue: 'Value is invalid',
        });
      }
      if (
        typeof item.receiver !== 'string' ||
        (type === 'EMAIL' && !/^[^\s@]+@[^\s@]+$/.test(item.receiver))
      ) {
        problems.push({
          field: `items[${index}].receiver`,
          location: 'body',
          issue: 'Receiver is invalid or does not match with type',
        });
      }
    });
    if (problems.length > 0)
      return send(400, errorBody('VALIDATION_ERROR', 'Invalid request - see details', problems));

    const senderBatchId = header.sender_batch_id as string;
    const existing = this.bySender.get(senderBatchId);
    if (existing) {
      return send(
        400,
        errorBody('USER_BUSINESS_ERROR', 'User business error.', [
          {
            field: 'SENDER_BATCH_ID',
            location: 'body',
            issue: 'Batch with given sender_batch_id already exists',
            ...(this.duplicateLink
              ? {
                  link: [
                    { href: `${this.url}/v1/payments/payouts/${existing.id}`, rel: 'self', method: 'GET' },
                  ],
                }
              : {}),
          },
        ]),
      );
    }
    const first = items[0]!;
    const batch: Batch = {
      id: id(),
      senderBatchId,
      created: new Date().toISOString(),
      item: {
        payout_item_id: id(),
        transaction_id: id(17),
        sender_item_id: typeof first.sender_item_id === 'string' ? first.sender_item_id : '',
        receiver: first.receiver as string,
        recipient_type: (first.recipient_type ?? header.recipient_type) as string,
        amount: first.amount as { value: string; currency: string },
        script: this.nextItem.length > 0 ? [...this.nextItem] : [{ status: 'SUCCESS' }],
        reads: 0,
      },
    };
    this.batches.set(batch.id, batch);
    this.bySender.set(senderBatchId, batch);
    this.items.set(batch.item.payout_item_id, { batch, item: batch.item });
    this.payoutsCreated += 1;
    const answer = {
      status: 201,
      body: {
        batch_header: {
          payout_batch_id: batch.id,
          batch_status: 'PENDING',
          sender_batch_header: { sender_batch_id: senderBatchId, recipient_type: header.recipient_type },
        },
        links: [
          {
            href: `${this.url}/v1/payments/payouts/${batch.id}`,
            rel: 'self',
            method: 'GET',
            encType: 'application/json',
          },
        ],
      },
    };
    if (requestId) this.byRequestId.set(requestId, answer);
    send(answer.status, answer.body);
  }

  /** SUCCESS for a transmission this fake sent, to its webhook id, with the event it sent. */
  private verify(raw: string, send: (status: number, body: unknown) => void): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return send(400, errorBody('MALFORMED_REQUEST', 'Incoming JSON request does not map to API request'));
    }
    const required = [
      'auth_algo',
      'cert_url',
      'transmission_id',
      'transmission_sig',
      'transmission_time',
      'webhook_id',
    ];
    const missing = required.filter((field) => typeof body[field] !== 'string' || body[field] === '');
    if (missing.length > 0 || typeof body.webhook_event !== 'object' || body.webhook_event === null) {
      return send(
        400,
        errorBody(
          'VALIDATION_ERROR',
          'Invalid request - see details',
          [...missing, ...(typeof body.webhook_event === 'object' ? [] : ['webhook_event'])].map((field) => ({
            field,
            location: 'body',
            issue: 'MISSING_REQUIRED_PARAMETER',
          })),
        ),
      );
    }
    this.verifications.asked += 1;
    const sent = this.transmissions.get(body.transmission_id as string);
    const ok =
      sent !== undefined &&
      sent.sig === body.transmission_sig &&
      body.webhook_id === this.webhookId &&
      JSON.stringify(body.webhook_event) === sent.event;
    if (ok) this.verifications.verified += 1;
    send(200, { verification_status: ok ? 'SUCCESS' : 'FAILURE' });
  }

  /** The item's state at this read (each read moves its script one step). */
  private step(item: Item): ItemStep {
    const step = item.script[Math.min(item.reads, item.script.length - 1)]!;
    item.reads += 1;
    return step;
  }

  private itemView(batch: Batch, item: Item, step = this.step(item)) {
    return {
      payout_item_id: item.payout_item_id,
      ...(step.status === 'SUCCESS' || step.status === 'UNCLAIMED'
        ? { transaction_id: item.transaction_id }
        : {}),
      transaction_status: step.status,
      payout_item_fee: { currency: item.amount.currency, value: '0.25' },
      payout_batch_id: batch.id,
      sender_batch_id: batch.senderBatchId,
      payout_item: {
        recipient_type: item.recipient_type,
        amount: item.amount,
        receiver: item.receiver,
        sender_item_id: item.sender_item_id,
      },
      time_processed: new Date().toISOString(),
      ...(step.error
        ? {
            errors: {
              ...step.error,
              information_link: 'https://developer.paypal.com/docs/api/payments.payouts-batch/#errors',
              details: [],
            },
          }
        : {}),
      links: [
        { href: `${this.url}/v1/payments/payouts-item/${item.payout_item_id}`, rel: 'item', method: 'GET' },
        { href: `${this.url}/v1/payments/payouts/${batch.id}`, rel: 'batch', method: 'GET' },
      ],
    };
  }

  private batchView(batch: Batch) {
    const step = this.step(batch.item);
    const final = step.status !== 'PENDING' && step.status !== 'ONHOLD';
    const denied = step.status === 'FAILED' || step.status === 'BLOCKED';
    return {
      batch_header: {
        payout_batch_id: batch.id,
        batch_status: denied ? 'DENIED' : final ? 'SUCCESS' : 'PROCESSING',
        time_created: batch.created,
        sender_batch_header: {
          sender_batch_id: batch.senderBatchId,
          recipient_type: batch.item.recipient_type,
        },
        amount: batch.item.amount,
        fees: { currency: batch.item.amount.currency, value: '0.25' },
      },
      items: [this.itemView(batch, batch.item, step)],
      links: [
        {
          href: `${this.url}/v1/payments/payouts/${batch.id}?page_size=1000&page=1`,
          rel: 'self',
          method: 'GET',
        },
      ],
    };
  }
}

/** A started fake. */
export async function startFakePayPal(): Promise<FakePayPal> {
  return new FakePayPal().start();
}
