import { assertCompanyAccess, type HttpApp, idParams, moneySchema, principalOf } from '@tessera/service-kit';
import { z } from 'zod';
import { budgetReaders, campaignNotFound } from './access.ts';
import type { RouteDeps } from './deps.ts';
import { money } from './schemas.ts';

export function campaignRoutes(app: HttpApp, deps: RouteDeps): void {
  app.get(
    '/api/v1/campaigns/:id/budget',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['campaigns'],
        security: [{ bearerAuth: [] }],
        summary: "A campaign's budget (the company's members and admins)",
        params: idParams,
        response: {
          200: z.object({
            campaign_id: z.uuid(),
            company_id: z.uuid(),
            funded: moneySchema,
            spent: moneySchema,
            returned: moneySchema,
            remaining: moneySchema,
          }),
        },
      },
    },
    async (request) => {
      const campaignId = request.params.id;
      // Which company a campaign belongs to comes from tasks' funding requests.
      const campaign = await deps.db
        .selectFrom('campaign_companies')
        .selectAll()
        .where('campaign_id', '=', campaignId)
        .executeTakeFirst();
      if (!campaign) throw campaignNotFound();
      // Whoever may not see the company's campaigns is told what an unknown campaign is told.
      await assertCompanyAccess(
        deps.db,
        principalOf(request),
        campaign.company_id,
        'read',
        budgetReaders,
        campaignNotFound(),
      );
      const budget = await deps.db
        .selectFrom('campaign_budgets')
        .selectAll()
        .where('campaign_id', '=', campaignId)
        .where('currency', '=', campaign.currency)
        .executeTakeFirst();
      const currency = campaign.currency;
      return {
        campaign_id: campaignId,
        company_id: campaign.company_id,
        funded: money(budget?.funded ?? 0, currency),
        spent: money(budget?.spent ?? 0, currency),
        returned: money(budget?.returned ?? 0, currency),
        remaining: money(budget?.remaining ?? 0, currency),
      };
    },
  );
}
