import { Readable } from 'node:stream';
import {
  cursorParam,
  encodeCursor,
  type HttpApp,
  idParams,
  limitParam,
  paginate,
  principalOf,
  Refusal,
  requireRole,
  safeText,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import { sql } from 'kysely';
import { z } from 'zod';
import type { PayoutsContext } from '../context.ts';
import { moveById, reconcileWithdrawal } from './handle.ts';
import {
  adminWithdrawalSchema,
  presentAdminWithdrawal,
  presentWithdrawal,
  withdrawalSchema,
  withdrawalStatuses,
} from './present.ts';

const tags = ['admin'];
const security = [{ bearerAuth: [] }];
const statuses = withdrawalStatuses;

export function adminWithdrawalRoutes(app: HttpApp, { db, clock }: PayoutsContext): void {
  const admin = [app.authenticate, requireRole('admin')];
  const adminOf = (request: Parameters<HttpApp['authenticate']>[0]) =>
    principalOf(request).userId.toLowerCase();

  app.get(
    '/api/v1/admin/withdrawals',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Withdrawals by status (default pending_review), oldest first: the approval queue',
        security,
        querystring: z.strictObject({
          status: statuses.default('pending_review'),
          cursor: cursorParam.optional(),
          limit: limitParam(50, 200),
        }),
        response: {
          200: z.object({
            withdrawals: z.array(adminWithdrawalSchema),
            total: z.object({ count: z.number().int(), amount: z.number().int() }),
            next_cursor: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const { status, cursor, limit } = request.query;
      let query = db
        .selectFrom('withdrawals')
        .leftJoin('users', 'users.user_id', 'withdrawals.user_id')
        .selectAll('withdrawals')
        .select('users.status as user_status')
        .where('withdrawals.status', '=', status)
        .orderBy('withdrawals.requested_at')
        .orderBy('withdrawals.id')
        .limit(limit + 1);
      if (cursor)
        query = query.where(
          sql<boolean>`(withdrawals.requested_at, withdrawals.id) > (${cursor.createdAt}, ${cursor.id})`,
        );
      const totals = await db
        .selectFrom('withdrawals')
        .select([
          sql<number>`count(*)::int`.as('count'),
          sql<number>`coalesce(sum(amount), 0)::bigint`.as('amount'),
        ])
        .where('status', '=', status)
        .executeTakeFirstOrThrow();
      const { page, next } = paginate(await query.execute(), limit, (last) =>
        encodeCursor({ createdAt: last.requested_at, id: last.id }),
      );
      return {
        // A user no event named yet is active (users/repository.ts `defaultStanding`).
        withdrawals: page.map(({ user_status, ...w }) =>
          presentAdminWithdrawal(w, { status: user_status ?? 'active' }),
        ),
        total: { count: totals.count, amount: Number(totals.amount) },
        next_cursor: next,
      };
    },
  );

  app.post(
    '/api/v1/admin/withdrawals/:id/approve',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Approve a withdrawal waiting for review',
        security,
        params: idParams,
        response: { 200: z.object({ withdrawal: withdrawalSchema }) },
      },
    },
    async (request) => {
      const approved = await db
        .transaction()
        .execute((trx) =>
          moveById(
            trx,
            request.params.id,
            { kind: 'approve', by: 'admin' },
            { now: clock(), by: adminOf(request) },
          ),
        );
      return { withdrawal: presentWithdrawal(approved) };
    },
  );

  app.post(
    '/api/v1/admin/withdrawals/:id/reject',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Refuse a withdrawal before it is paid out; the ledger releases the amount',
        description:
          "`reason_code` goes into the `rejected` event; `reason`, the admin's own words, is kept as the withdrawal's `rejected_note`, shown to admins only (never to its user, never in an event) and cleared by the user's erasure.",
        security,
        params: idParams,
        body: z.strictObject({
          reason_code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/),
          reason: safeText(1000, { multiline: true }).optional(),
        }),
        response: { 200: z.object({ withdrawal: adminWithdrawalSchema }) },
      },
    },
    async (request) => {
      const rejected = await db.transaction().execute((trx) =>
        moveById(
          trx,
          request.params.id,
          { kind: 'reject' },
          {
            now: clock(),
            by: adminOf(request),
            reasonCode: request.body.reason_code,
            rejectedNote: request.body.reason ?? null,
          },
        ),
      );
      return { withdrawal: presentAdminWithdrawal(rejected) };
    },
  );

  app.post(
    '/api/v1/admin/withdrawals/:id/reconcile',
    {
      preHandler: admin,
      schema: {
        tags,
        summary:
          'Record what the provider says of a payout parked for reconciliation: completed (the ledger posts the hold) or failed (it releases the hold)',
        description:
          'Only for a withdrawal `processing` through a provider and parked for reconciliation (job `payout-reconcile`): the sender could not settle it itself. Check the payout at the provider, then send the outcome and the reference checked (its transaction or batch id). The same request again answers the same withdrawal and moves nothing. 409 `WITHDRAWAL_NOT_PARKED` while the sender still follows it, `WITHDRAWAL_IS_MANUAL` for a manual payout (`PUT /api/v1/withdrawals/{id}/process`), `WITHDRAWAL_ALREADY_RECONCILED` for another outcome or reference, `WITHDRAWAL_NOT_RECONCILED` in any other status.',
        security,
        params: idParams,
        body: z.strictObject({
          outcome: z.enum(['completed', 'failed']),
          provider_reference: z
            .string()
            .trim()
            .min(1)
            .max(200)
            .regex(/^[\x21-\x7e]+$/),
          note: safeText(1000, { multiline: true }).optional(),
        }),
        response: {
          200: z.object({
            withdrawal: withdrawalSchema,
            reconciliation: z.object({
              outcome: z.enum(['completed', 'failed']),
              provider_reference: z.string(),
              reconciled_by: z.uuid(),
              reconciled_at: timestamp,
            }),
          }),
        },
      },
    },
    async (request) => {
      const { outcome, provider_reference: providerReference, note } = request.body;
      const reconciled = await db.transaction().execute((trx) =>
        reconcileWithdrawal(trx, {
          id: request.params.id,
          adminId: adminOf(request),
          outcome,
          providerReference,
          note: note ?? null,
          now: clock(),
        }),
      );
      return {
        withdrawal: presentWithdrawal(reconciled),
        reconciliation: {
          outcome: reconciled.status === 'completed' ? ('completed' as const) : ('failed' as const),
          provider_reference: reconciled.reconciled_reference!,
          reconciled_by: reconciled.reconciled_by!,
          reconciled_at: reconciled.reconciled_at!.toISOString(),
        },
      };
    },
  );

  app.post(
    '/api/v1/admin/payouts/batch-approve',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Approve many withdrawals at once; each succeeds or fails on its own (seed 000)',
        security,
        body: z.strictObject({ withdrawal_ids: z.array(uuidParam).min(1).max(500) }),
        response: {
          200: z.object({
            results: z.array(
              z.object({
                withdrawal_id: z.uuid(),
                ok: z.boolean(),
                status: z.string().nullable(),
                code: z.string().nullable(),
                detail: z.string().nullable(),
              }),
            ),
            approved: z.number().int(),
            failed: z.number().int(),
          }),
        },
      },
    },
    async (request) => {
      const adminId = adminOf(request);
      const results = [];
      for (const id of [...new Set(request.body.withdrawal_ids)]) {
        try {
          const approved = await db
            .transaction()
            .execute((trx) =>
              moveById(trx, id, { kind: 'approve', by: 'admin' }, { now: clock(), by: adminId }),
            );
          results.push({ withdrawal_id: id, ok: true, status: approved.status, code: null, detail: null });
        } catch (error) {
          if (!(error instanceof Refusal)) throw error;
          results.push({
            withdrawal_id: id,
            ok: false,
            status: null,
            code: error.code,
            detail: error.detail,
          });
        }
      }
      const approved = results.filter((r) => r.ok).length;
      return { results, approved, failed: results.length - approved };
    },
  );

  app.get(
    '/api/v1/admin/withdrawals/export',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'Withdrawals requested in [from, to) as CSV, streamed (finance export)',
        security,
        querystring: z
          .strictObject({ from: timestamp, to: timestamp })
          .refine((q) => Date.parse(q.from) < Date.parse(q.to), {
            error: 'from must be before to',
            path: ['to'],
          }),
      },
    },
    async (request, reply) => {
      const { from, to } = request.query;
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header(
        'content-disposition',
        `attachment; filename="withdrawals-${from.slice(0, 10)}-${to.slice(0, 10)}.csv"`,
      );
      return reply.send(Readable.from(exportRows(db, new Date(from), new Date(to))));
    },
  );
}

const HEADER =
  'id,user_id,status,amount,currency,method_type,provider,external_transaction_id,reason_code,requested_at,approved_at,finished_at\n';

/** CSV rows in pages of 500 (keyset), so an export of a year never sits in memory at once. */
async function* exportRows(db: PayoutsContext['db'], from: Date, to: Date): AsyncGenerator<string> {
  yield HEADER;
  let after: { at: Date; id: string } | undefined;
  for (;;) {
    let query = db
      .selectFrom('withdrawals')
      .selectAll()
      .where('requested_at', '>=', from)
      .where('requested_at', '<', to)
      .orderBy('requested_at')
      .orderBy('id')
      .limit(500);
    if (after) query = query.where(sql<boolean>`(requested_at, id) > (${after.at}, ${after.id})`);
    const rows = await query.execute();
    if (rows.length === 0) return;
    yield rows
      .map((w) =>
        [
          w.id,
          w.user_id,
          w.status,
          (Number(w.amount) / 100).toFixed(2),
          w.currency,
          w.method_type,
          w.provider ?? '',
          w.external_transaction_id ?? '',
          w.reason_code ?? '',
          w.requested_at.toISOString(),
          w.approved_at?.toISOString() ?? '',
          w.finished_at?.toISOString() ?? '',
        ]
          .map(csvField)
          .join(','),
      )
      .join('\n')
      .concat('\n');
    const last = rows[rows.length - 1]!;
    after = { at: last.requested_at, id: last.id };
  }
}

/** A CSV field, quoted when it must be, and never a formula a spreadsheet would run. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
