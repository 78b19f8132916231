import { periodicJob } from '@tessera/service-kit';
import type { Capability } from '../capability.ts';
import { companyOfCampaign, waitForCatalog } from '../catalog/index.ts';
import type { EngagementContext } from '../context.ts';
import { queueEvent } from './handle.ts';
import { approvedPayload, bundlePayload, pausedPayload } from './payloads.ts';
import { PRUNE_BATCH, pruneDeliveryLog, WEBHOOK_LOG_PRUNER } from './prune.ts';
import { webhookRoutes } from './routes.ts';
import { webhookSender } from './sender.ts';
import { type WebhookSettings, webhookSettings } from './settings.ts';
import { webhooksMigrations } from './tables.ts';

export { WEBHOOK_SENDER, sendDueDeliveries, webhookAgent } from './sender.ts';
export { WEBHOOK_LOG_PRUNER, pruneDeliveryLog } from './prune.ts';
export { verifySignature } from './signature.ts';
export { backoff } from './retry.ts';
export { webhookSettings } from './settings.ts';

// Checked once per configuration; a bad one throws a ConfigError and the service does not start.
const settingsByConfig = new WeakMap<object, WebhookSettings>();
function settingsOf(context: EngagementContext): WebhookSettings {
  let settings = settingsByConfig.get(context.config);
  if (!settings) {
    settings = webhookSettings(context.config);
    settingsByConfig.set(context.config, settings);
  }
  return settings;
}

/**
 * Company webhooks: a company registers HTTPS endpoints for its campaigns' events; each event
 * becomes one signed delivery per subscribed endpoint, sent and retried with backoff by the
 * sender, logged attempt by attempt, and redeliverable by hand. A webhook failing for days is
 * switched off (its managers told); settled deliveries are forgotten after the retention.
 */
export const webhooks: Capability = {
  name: 'webhooks',
  migrations: webhooksMigrations,
  routes: (app, context) => webhookRoutes(app, context, settingsOf(context)),
  handlers: (context) => ({
    'submissions.submission.approved.v1': async (event, trx) => {
      const campaignId = event.data.campaign_id.toLowerCase();
      const companyId = await companyOfCampaign(trx, campaignId);
      if (companyId === undefined) {
        // Not announced by tasks yet (the streams are read independently): delivered once it is.
        await waitForCatalog(
          trx,
          // Named by its contributor, so an erasure forgets it with their other waits.
          {
            capability: 'webhooks',
            event,
            campaignId,
            userId: event.data.contributor_id,
            now: context.clock(),
          },
          context.logger,
        );
        return;
      }
      await queueEvent(trx, {
        companyId,
        event: 'submission.approved',
        eventId: event.id,
        payload: approvedPayload(event),
        now: context.clock(),
      });
    },
    'submissions.bundle.published.v1': async (event, trx) => {
      await queueEvent(trx, {
        companyId: event.data.company_id.toLowerCase(),
        event: 'bundle.published',
        eventId: event.id,
        payload: bundlePayload(event),
        now: context.clock(),
      });
    },
    'tasks.campaign.paused.v1': async (event, trx) => {
      await queueEvent(trx, {
        companyId: event.data.company_id.toLowerCase(),
        event: 'campaign.paused',
        eventId: event.id,
        payload: pausedPayload(event),
        now: context.clock(),
      });
    },
  }),
  workers: (context) => {
    const settings = settingsOf(context);
    return [
      webhookSender(context, settings),
      periodicJob({
        name: WEBHOOK_LOG_PRUNER,
        intervalMs: settings.pruneIntervalMs,
        fullRunAt: PRUNE_BATCH,
        work: () =>
          pruneDeliveryLog(
            context.db,
            new Date(context.clock().getTime() - settings.logRetentionDays * 86_400_000),
          ),
      }),
    ];
  },
};
