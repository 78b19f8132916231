import {
  type HttpApp,
  moneySchema,
  positiveMoney,
  principalOf,
  refuse,
  requiredIdempotencyHeaders,
  requireRole,
  safeText,
  signedMoneySchema,
  timestamp,
  uuidParam,
} from '@tessera/service-kit';
import { currencyCode } from '@tessera/contracts';
import { sql } from 'kysely';
import { z } from 'zod';
import { adjustmentKinds, adjustmentTransfer } from '../domain/adjustments.ts';
import { parseAccountId } from '../domain/accounts.ts';
import { promotionPeriod } from '../domain/promotions.ts';
import { transferIds } from '../messaging/transfer-ids.ts';
import { assertAdminAmount, assertLedgerCurrency, recordTransfer, type RouteDeps } from './deps.ts';
import { currencyQuery, money, statementLineSchema } from './schemas.ts';
import { statementPage } from './statements.ts';

const tags = ['admin'];
const security = [{ bearerAuth: [] }];
const RECENT_LINES = 20;
const REFUSED_PROMOTIONS = 100;

export function adminRoutes(app: HttpApp, deps: RouteDeps): void {
  app.post(
    '/api/v1/admin/ledger/adjustments',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        security,
        summary: 'Credit (bonus) or debit (penalty) a user (admin)',
        description:
          'A bonus comes from platform:promotions, a penalty goes to platform:revenue. Requires an ' +
          'Idempotency-Key; replays answer 201 with the first result and `Idempotent-Replayed: true`. ' +
          'A penalty larger than what the user has available is a 409 INSUFFICIENT_FUNDS.',
        headers: requiredIdempotencyHeaders,
        body: z.strictObject({
          user_id: uuidParam,
          kind: z.enum(adjustmentKinds),
          amount: positiveMoney,
          reason: safeText(200).min(1),
        }),
        response: {
          201: z.object({
            transfer_id: z.uuid(),
            user_id: z.uuid(),
            kind: z.enum(adjustmentKinds),
            amount: moneySchema,
            reason: z.string(),
            recorded_at: timestamp,
          }),
        },
      },
    },
    async (request, reply) => {
      const { user_id, kind, amount, reason } = request.body;
      assertLedgerCurrency(deps, amount.currency);
      assertAdminAmount(deps, amount.amount);
      const { transfer, replayed } = await recordTransfer(
        deps,
        adjustmentTransfer({
          transferId: transferIds.adjustment(user_id, request.headers['idempotency-key']),
          userId: user_id,
          kind,
          amount: amount.amount,
          currency: amount.currency,
          reason,
          recordedBy: principalOf(request).userId,
        }),
      );
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply.code(201).send({
        transfer_id: transfer.id,
        user_id,
        kind,
        amount: money(transfer.amount, transfer.currency),
        reason: transfer.metadata.reason ?? reason,
        recorded_at: transfer.created_at,
      });
    },
  );

  app.get(
    '/api/v1/admin/ledger/accounts/:id',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        security,
        summary: 'An account in every currency it holds, with its recent statement lines (admin)',
        params: z.strictObject({ id: z.string().min(1).max(200) }),
        response: {
          200: z.object({
            account_id: z.string(),
            kind: z.string(),
            owner: z.string().nullable(),
            balances: z.array(
              z.object({
                currency: z.string(),
                debits_posted: moneySchema,
                credits_posted: moneySchema,
                debits_pending: moneySchema,
                credits_pending: moneySchema,
                balance: signedMoneySchema,
                available: signedMoneySchema,
                recent_lines: z.array(statementLineSchema),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const identity = parseAccountId(request.params.id.toLowerCase());
      if (!identity) {
        throw refuse.invalid(
          'INVALID_ACCOUNT',
          'Not an account of the chart: world, platform:revenue, platform:promotions, platform:quality, ' +
            'company:<id>:credits, campaign:<id>:budget or user:<id>:available.',
        );
      }
      const rows = await deps.db
        .selectFrom('account_balances')
        .selectAll()
        .where('account_id', '=', identity.id)
        .orderBy('currency')
        .execute();
      if (rows.length === 0) throw refuse.notFound('This account has no entries yet.', 'ACCOUNT_NOT_FOUND');
      const balances = await Promise.all(
        rows.map(async (row) => {
          const balance = row.credits_posted - row.debits_posted;
          const lines = await statementPage(deps.db, row, { limit: RECENT_LINES });
          return {
            currency: row.currency,
            debits_posted: money(row.debits_posted, row.currency),
            credits_posted: money(row.credits_posted, row.currency),
            debits_pending: money(row.debits_pending, row.currency),
            credits_pending: money(row.credits_pending, row.currency),
            balance: money(balance, row.currency),
            available: money(balance - row.debits_pending, row.currency),
            recent_lines: lines.items,
          };
        }),
      );
      return { account_id: identity.id, kind: identity.kind, owner: identity.owner, balances };
    },
  );

  app.get(
    '/api/v1/admin/ledger/summary',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        security,
        summary: "The platform's position in one currency (admin)",
        description:
          'Balances are credits minus debits, posted. `world` is negative by the net amount that entered ' +
          'the platform; `promotions_spent` and `quality_spent` (honeypot review fees) are the expenses ' +
          'paid out; `balanced` says whether all accounts sum to zero, as double entry requires.',
        querystring: currencyQuery,
        response: {
          200: z.object({
            currency: z.string(),
            user_liability: signedMoneySchema,
            user_held: moneySchema,
            company_credits: signedMoneySchema,
            campaign_escrow: signedMoneySchema,
            revenue: signedMoneySchema,
            promotions_spent: signedMoneySchema,
            quality_spent: signedMoneySchema,
            world: signedMoneySchema,
            balanced: z.boolean(),
          }),
        },
      },
    },
    async (request) => {
      const currency = request.query.currency ?? deps.config.LEDGER_CURRENCY;
      const rows = await deps.db
        .selectFrom('account_balances')
        .select([
          'kind',
          sql<number>`coalesce(sum(credits_posted - debits_posted), 0)::bigint`.as('net'),
          sql<number>`coalesce(sum(debits_pending), 0)::bigint`.as('held'),
        ])
        .where('currency', '=', currency)
        .groupBy('kind')
        .execute();
      const net = (kind: string) => Number(rows.find((row) => row.kind === kind)?.net ?? 0);
      const held = Number(rows.find((row) => row.kind === 'user_available')?.held ?? 0);
      const total = rows.reduce((sum, row) => sum + Number(row.net), 0);
      return {
        currency,
        user_liability: money(net('user_available'), currency),
        user_held: money(held, currency),
        company_credits: money(net('company_credits'), currency),
        campaign_escrow: money(net('campaign_budget'), currency),
        revenue: money(net('platform_revenue'), currency),
        promotions_spent: money(-net('platform_promotions'), currency),
        quality_spent: money(-net('platform_quality'), currency),
        world: money(net('world'), currency),
        balanced: total === 0,
      };
    },
  );

  app.get(
    '/api/v1/admin/ledger/promotions',
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        security,
        summary: "A month's promotions budget, what was spent and the promotions refused beyond it (admin)",
        description:
          'Bonuses and referral rewards from engagement are paid within LEDGER_PROMOTIONS_BUDGET_MINOR ' +
          'per calendar month (UTC) and currency; one beyond it moves nothing and is listed here, newest first.',
        querystring: z.strictObject({
          currency: currencyCode.optional(),
          period: z
            .string()
            .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
            .optional(),
        }),
        response: {
          200: z.object({
            period: z.string(),
            budget: moneySchema,
            spent: moneySchema,
            refused: z.array(
              z.object({
                promotion: z.string(),
                user_id: z.uuid(),
                amount: moneySchema,
                reason_code: z.string(),
                decided_at: timestamp,
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const currency = request.query.currency ?? deps.config.LEDGER_CURRENCY;
      const period = request.query.period ?? promotionPeriod(new Date());
      const spent = await deps.db
        .selectFrom('ledger_promotion_periods')
        .select('spent')
        .where('period', '=', period)
        .where('currency', '=', currency)
        .executeTakeFirst();
      const refused = await deps.db
        .selectFrom('ledger_promotions')
        .selectAll()
        .where('status', '=', 'refused')
        .where('period', '=', period)
        .where('currency', '=', currency)
        .orderBy('decided_at', 'desc')
        .limit(REFUSED_PROMOTIONS)
        .execute();
      return {
        period,
        budget: money(deps.config.LEDGER_PROMOTIONS_BUDGET_MINOR, currency),
        spent: money(Number(spent?.spent ?? 0), currency),
        refused: refused.map((row) => ({
          promotion: row.promotion_key,
          user_id: row.user_id,
          amount: money(Number(row.amount), currency),
          reason_code: row.reason_code ?? 'REFUSED',
          decided_at: row.decided_at.toISOString(),
        })),
      };
    },
  );
}
