import type { TesseraEvent } from '@tessera/contracts';

/** The events a company may subscribe a webhook to. */
export const webhookEvents = ['submission.approved', 'bundle.published', 'campaign.paused'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];
/** What a delivery may carry: a subscribed event, or the `ping` a company asks for to test. */
export type DeliveryEventType = WebhookEvent | 'ping';

/** The body a receiver gets: the event (stable id across redeliveries), its type and its data. */
export interface WebhookPayload {
  id: string;
  type: DeliveryEventType;
  created_at: string;
  data: Record<string, unknown>;
}

const envelope = (
  event: { id: string; time: string },
  type: DeliveryEventType,
  data: Record<string, unknown>,
): WebhookPayload => ({ id: event.id.toLowerCase(), type, created_at: event.time, data });

/**
 * Only what the company needs of each event. The contributor is left out even though their id is
 * pseudonymous: a company has no use for it, and it would let deliveries be joined per person.
 */
export function approvedPayload(event: TesseraEvent<'submissions.submission.approved.v1'>): WebhookPayload {
  const { submission_id, task_id, campaign_id, reward } = event.data;
  return envelope(event, 'submission.approved', {
    submission_id: submission_id.toLowerCase(),
    task_id: task_id.toLowerCase(),
    campaign_id: campaign_id.toLowerCase(),
    reward: { amount: reward.amount, currency: reward.currency },
  });
}

export function bundlePayload(event: TesseraEvent<'submissions.bundle.published.v1'>): WebhookPayload {
  const { bundle_id, campaign_id, version, items, manifest_sha256 } = event.data;
  return envelope(event, 'bundle.published', {
    bundle_id: bundle_id.toLowerCase(),
    campaign_id: campaign_id.toLowerCase(),
    version,
    items,
    manifest_sha256,
  });
}

export function pausedPayload(event: TesseraEvent<'tasks.campaign.paused.v1'>): WebhookPayload {
  return envelope(event, 'campaign.paused', {
    campaign_id: event.data.campaign_id.toLowerCase(),
    reason: event.data.reason_code,
  });
}

export function pingPayload(id: string, webhookId: string, at: Date): WebhookPayload {
  return envelope({ id, time: at.toISOString() }, 'ping', { webhook_id: webhookId });
}
