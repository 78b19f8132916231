import {
  assertCompanyAccess,
  type HttpApp,
  idParams,
  moneySchema,
  positiveMoney,
  principalOf,
  requiredIdempotencyHeaders,
  requireRole,
  safeText,
  timestamp,
} from '@tessera/service-kit';
import { z } from 'zod';
import { accountIds } from '../domain/accounts.ts';
import { transferIds } from '../messaging/transfer-ids.ts';
import { companyNotFound, creditReaders } from './access.ts';
import { assertAdminAmount, assertLedgerCurrency, recordTransfer, type RouteDeps } from './deps.ts';
import { currencyQuery, money } from './schemas.ts';

const tags = ['companies'];
const security = [{ bearerAuth: [] }];

const topupResponse = z.object({
  transfer_id: z.uuid(),
  company_id: z.uuid(),
  amount: moneySchema,
  reference: z.string(),
  recorded_at: timestamp,
});

export function companyRoutes(app: HttpApp, deps: RouteDeps): void {
  app.get(
    '/api/v1/companies/:id/credits',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        security,
        summary: "A company's credits (its members and admins)",
        params: idParams,
        querystring: currencyQuery,
        response: { 200: z.object({ company_id: z.uuid(), available: moneySchema }) },
      },
    },
    async (request) => {
      const companyId = request.params.id;
      await assertCompanyAccess(
        deps.db,
        principalOf(request),
        companyId,
        'read',
        creditReaders,
        companyNotFound(),
      );
      const currency = request.query.currency ?? deps.config.LEDGER_CURRENCY;
      const account = await deps.db
        .selectFrom('account_balances')
        .selectAll()
        .where('account_id', '=', accountIds.companyCredits(companyId))
        .where('currency', '=', currency)
        .executeTakeFirst();
      const available = account ? account.credits_posted - account.debits_posted - account.debits_pending : 0;
      return { company_id: companyId, available: money(available, currency) };
    },
  );

  app.post(
    '/api/v1/companies/:id/topups',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        security,
        summary: "Record a company's external payment into its credits (admin)",
        description:
          'Requires an Idempotency-Key. A retry with the same key and body answers 201 with the first ' +
          'result and `Idempotent-Replayed: true`; the same key with another body (or by another admin) ' +
          'is a 409 IDEMPOTENCY_CONFLICT.',
        params: idParams,
        headers: requiredIdempotencyHeaders,
        body: z.strictObject({ amount: positiveMoney, reference: safeText(200).min(1) }),
        response: { 201: topupResponse },
      },
    },
    async (request, reply) => {
      const companyId = request.params.id;
      const { amount, reference } = request.body;
      assertLedgerCurrency(deps, amount.currency);
      assertAdminAmount(deps, amount.amount);
      const key = request.headers['idempotency-key'];
      const { transfer, replayed } = await recordTransfer(deps, {
        id: transferIds.topup(companyId, key),
        debit_account: accountIds.world,
        credit_account: accountIds.companyCredits(companyId),
        amount: amount.amount,
        currency: amount.currency,
        code: 'topup',
        metadata: {
          origin: 'topup',
          company_id: companyId,
          reference,
          recorded_by: principalOf(request).userId,
        },
      });
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply.code(201).send({
        transfer_id: transfer.id,
        company_id: companyId,
        amount: money(transfer.amount, transfer.currency),
        reference: transfer.metadata.reference ?? reference,
        recorded_at: transfer.created_at,
      });
    },
  );
}
