import { type HttpApp, isUuid, moneySchema, principalOf } from '@tessera/service-kit';
import { z } from 'zod';
import { accountIds } from '../domain/accounts.ts';
import { canonicalId } from '../messaging/transfer-ids.ts';
import type { RouteDeps } from './deps.ts';
import { currencyQuery, money, statementCursor, statementLineSchema } from './schemas.ts';
import { statementPage } from './statements.ts';

const tags = ['wallet'];
const security = [{ bearerAuth: [] }];

/** The caller's own wallet and statement: every role has one (a judge earns fees, an admin may too). */
export function walletRoutes(app: HttpApp, deps: RouteDeps): void {
  app.get(
    '/api/v1/wallet',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        security,
        summary: "The caller's wallet",
        querystring: currencyQuery,
        response: {
          200: z.object({
            available: moneySchema,
            held: moneySchema,
            total_earned: moneySchema,
            total_withdrawn: moneySchema,
          }),
        },
      },
    },
    async (request) => {
      const userId = canonicalId(principalOf(request).userId);
      const currency = request.query.currency ?? deps.config.LEDGER_CURRENCY;
      // Identity's subjects are UUIDs; anything else simply has no wallet.
      const wallet = isUuid(userId)
        ? await deps.db
            .selectFrom('wallets')
            .selectAll()
            .where('user_id', '=', userId)
            .where('currency', '=', currency)
            .executeTakeFirst()
        : undefined;
      return {
        available: money(wallet?.available ?? 0, currency),
        held: money(wallet?.held ?? 0, currency),
        total_earned: money(wallet?.total_earned ?? 0, currency),
        total_withdrawn: money(wallet?.total_withdrawn ?? 0, currency),
      };
    },
  );

  app.get(
    '/api/v1/wallet/transactions',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        security,
        summary: "The caller's statement, newest first",
        querystring: currencyQuery.extend({
          cursor: statementCursor.param.optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: {
          200: z.object({ items: z.array(statementLineSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const userId = canonicalId(principalOf(request).userId);
      const { cursor, limit } = request.query;
      const currency = request.query.currency ?? deps.config.LEDGER_CURRENCY;
      return statementPage(
        deps.db,
        { account_id: accountIds.userAvailable(userId), currency },
        { before: cursor?.s, limit },
        // Which admin recorded an adjustment is the platform's business, not the user's.
        { hideMetadata: ['recorded_by'] },
      );
    },
  );
}
