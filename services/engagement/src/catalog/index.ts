import type { Capability } from '../capability.ts';
import { campaignKnown, taskKnown } from './repository.ts';
import { catalogWaitRoutes } from './routes.ts';
import { catalogMigrations } from './tables.ts';
import { forgetWaitsOf } from './waits.ts';

export { companyOfCampaign, taskTypeOf } from './repository.ts';
export { dueWaits, peekWait, takeWait, waitForCatalog, waitingCount } from './waits.ts';

/**
 * Tasks and campaigns as the tasks service announces them: a task's type and a campaign's
 * company. Every event that names a campaign also names its company, so any of them teaches it.
 * What needs a task or campaign not announced yet waits for it (`waits.ts`), never lost; admins
 * list what waits, and a gauge reports the oldest wait's age (`routes.ts`).
 */
export const catalog: Capability = {
  name: 'catalog',
  migrations: catalogMigrations,
  routes: catalogWaitRoutes,
  handlers: () => ({
    'tasks.campaign.created.v1': (event, trx) =>
      campaignKnown(trx, event.data.campaign_id, event.data.company_id),
    'tasks.task.published.v1': async (event, trx) => {
      await campaignKnown(trx, event.data.campaign_id, event.data.company_id);
      await taskKnown(trx, event.data.task_id, event.data.campaign_id, event.data.task_type);
    },
    'tasks.task.updated.v1': async (event, trx) => {
      await campaignKnown(trx, event.data.campaign_id, event.data.company_id);
      await taskKnown(trx, event.data.task_id, event.data.campaign_id, event.data.task_type);
    },
    'identity.user.erased.v1': (event, trx) => forgetWaitsOf(trx, event.data.user_id),
  }),
};
