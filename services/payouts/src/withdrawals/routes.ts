import {
  cursorParam,
  encodeCursor,
  type HttpApp,
  idParams,
  limitParam,
  paginate,
  positiveMoney,
  principalOf,
  refuse,
  requiredIdempotencyHeaders,
  requireRole,
  runOnce,
  uuidParam,
} from '@tessera/service-kit';
import { sql } from 'kysely';
import { z } from 'zod';
import type { PayoutsContext } from '../context.ts';
import { standingOf } from '../users/repository.ts';
import { withdrawalRefusals } from './decide.ts';
import { moveById, recordProcessed, requestWithdrawal } from './handle.ts';
import { headerValues, takeNotification } from './notifications.ts';
import { presentWithdrawal, withdrawalSchema, withdrawalStatuses } from './present.ts';

const tags = ['withdrawals'];
const security = [{ bearerAuth: [] }];
const statuses = withdrawalStatuses;
const one = z.object({ withdrawal: withdrawalSchema });

/** Contributors withdraw; companies (and their API keys) never do. */
function withdrawer(request: Parameters<HttpApp['authenticate']>[0]) {
  const principal = principalOf(request);
  if (principal.role !== 'contributor' || principal.companyId !== undefined)
    throw refuse.forbidden('Only contributors withdraw earnings.');
  return principal.userId.toLowerCase();
}

/**
 * A webhook event as PayPal sends it. Kept as received (its keys in their order): PayPal verifies
 * the event we pass back against what it signed.
 */
const paypalEvent = z
  .record(z.string().max(200), z.unknown())
  .refine((event) => typeof event.id === 'string' && event.id.length <= 100, {
    message: 'a PayPal webhook event has an id',
    path: ['id'],
  })
  .refine((event) => typeof event.event_type === 'string' && event.event_type.length <= 100, {
    message: 'a PayPal webhook event has an event_type',
    path: ['event_type'],
  });

export function withdrawalRoutes(app: HttpApp, context: PayoutsContext): void {
  const { db, clock, config, resources } = context;
  const rules = {
    minimum: config.PAYOUTS_MIN_WITHDRAWAL,
    dailyLimit: config.PAYOUTS_DAILY_LIMIT,
    currency: config.PAYOUTS_CURRENCY,
  };

  app.post(
    '/api/v1/withdrawals',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Withdraw from your wallet to one of your payout methods; the ledger holds the amount, then it waits for approval',
        security,
        headers: requiredIdempotencyHeaders,
        body: z.strictObject({ amount: positiveMoney, method_id: uuidParam }),
        response: { 202: one },
      },
    },
    async (request, reply) => {
      const userId = withdrawer(request);
      const now = clock();
      const call = {
        principalId: userId,
        operation: 'request-withdrawal',
        key: request.headers['idempotency-key'],
        body: request.body,
      };
      const answer = await runOnce(db, call, now, 202, async (trx) => ({
        withdrawal: presentWithdrawal(
          await requestWithdrawal(
            trx,
            { userId, amount: request.body.amount, methodId: request.body.method_id, now },
            rules,
          ),
        ),
      }));
      return reply.code(202).send(answer);
    },
  );

  app.get(
    '/api/v1/withdrawals/me',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Your withdrawals, newest first',
        security,
        querystring: z.strictObject({
          status: statuses.optional(),
          cursor: cursorParam.optional(),
          limit: limitParam(),
        }),
        response: {
          200: z.object({ withdrawals: z.array(withdrawalSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const userId = withdrawer(request);
      const { status, cursor, limit } = request.query;
      let query = db
        .selectFrom('withdrawals')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('requested_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (status) query = query.where('status', '=', status);
      if (cursor) query = query.where(sql<boolean>`(requested_at, id) < (${cursor.createdAt}, ${cursor.id})`);
      const { page, next } = paginate(await query.execute(), limit, (last) =>
        encodeCursor({ createdAt: last.requested_at, id: last.id }),
      );
      const standing = await standingOf(db, userId);
      return { withdrawals: page.map((w) => presentWithdrawal(w, standing)), next_cursor: next };
    },
  );

  app.get(
    '/api/v1/withdrawals/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'One of your withdrawals (admins: anyone’s)',
        security,
        params: idParams,
        response: { 200: one },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const found = await db
        .selectFrom('withdrawals')
        .selectAll()
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!found || (principal.role !== 'admin' && found.user_id !== principal.userId.toLowerCase()))
        throw withdrawalRefusals.notFound();
      return { withdrawal: presentWithdrawal(found, await standingOf(db, found.user_id)) };
    },
  );

  app.post(
    '/api/v1/withdrawals/:id/cancel',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Cancel your withdrawal before it is paid out; the ledger releases the amount',
        security,
        params: idParams,
        response: { 200: one },
      },
    },
    async (request) => {
      const userId = withdrawer(request);
      const cancelled = await db
        .transaction()
        .execute((trx) =>
          moveById(trx, request.params.id, { kind: 'cancel' }, { now: clock(), owner: userId }),
        );
      return { withdrawal: presentWithdrawal(cancelled) };
    },
  );

  app.put(
    '/api/v1/withdrawals/:id/process',
    {
      preHandler: [app.authenticate, requireRole('admin')],
      schema: {
        tags: ['admin'],
        summary:
          'Record a payout made by hand (the manual provider only: 409 WITHDRAWAL_NOT_MANUAL otherwise): completed with its transaction id, or failed',
        security,
        params: idParams,
        body: z
          .strictObject({
            status: z.enum(['completed', 'failed']),
            external_transaction_id: z
              .string()
              .trim()
              .min(1)
              .max(200)
              .regex(/^[\x21-\x7e]+$/)
              .optional(),
            reason_code: z
              .string()
              .regex(/^[A-Z][A-Z0-9_]{0,63}$/)
              .optional(),
          })
          .refine((body) => body.status === 'failed' || body.external_transaction_id !== undefined, {
            error: 'a completed payout needs its external_transaction_id',
            path: ['external_transaction_id'],
          }),
        response: { 200: one },
      },
    },
    async (request) => {
      const body = request.body;
      const processed = await db.transaction().execute((trx) =>
        recordProcessed(trx, {
          id: request.params.id,
          adminId: principalOf(request).userId.toLowerCase(),
          status: body.status,
          externalId: body.external_transaction_id ?? null,
          reasonCode: body.reason_code ?? null,
          now: clock(),
          provider: resources.provider.name,
        }),
      );
      return { withdrawal: presentWithdrawal(processed) };
    },
  );

  app.post(
    '/api/v1/withdrawals/provider-notifications/paypal',
    {
      schema: {
        tags,
        summary:
          "PayPal's webhook for payout events: verified with PayPal (400 NOTIFICATION_UNVERIFIED), the payouts it names are asked about at once",
        description:
          'Public: PayPal calls it, signing with its transmission headers, which PayPal itself then verifies ' +
          '(503 PROVIDER_UNAVAILABLE when it cannot be asked: PayPal sends the event again). Nothing in the event ' +
          'moves money: the withdrawals it names are read from PayPal by the sender. 404 NOTIFICATIONS_OFF unless ' +
          'PAYOUTS_PROVIDER=paypal with PAYPAL_WEBHOOK_ID.',
        body: paypalEvent,
        response: { 200: z.object({ received: z.literal(true), woken: z.number().int().nonnegative() }) },
      },
    },
    async (request) => {
      const woken = await takeNotification(context, 'paypal', {
        headers: headerValues(request.headers),
        event: request.body,
      });
      return { received: true as const, woken };
    },
  );
}
