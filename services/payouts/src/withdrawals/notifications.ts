import { isUuid, refuse } from '@tessera/service-kit';
import type { PayoutsContext } from '../context.ts';
import type { ProviderNotification } from '../providers/provider.ts';

/**
 * A provider's notification (a webhook) about payouts: checked with the provider itself, then the
 * processing withdrawals it names are asked about now instead of at their next poll (up to an hour
 * away). It is only a wake-up: what the provider says there is never applied as is; the sender
 * reads each payout's status from the provider, as at any poll, so a notification can neither
 * complete nor fail a withdrawal by itself. A withdrawal whose send is under way (its lease
 * running) is left to it. Answers how many withdrawals were brought forward.
 */
export async function takeNotification(
  context: PayoutsContext,
  provider: string,
  notification: ProviderNotification,
): Promise<number> {
  const { resources, db, clock, config, logger } = context;
  const payer = resources.provider;
  if (payer.name !== provider || !payer.checkNotification) {
    throw refuse.notFound(`This platform takes no notifications from ${provider}.`, 'NOTIFICATIONS_OFF');
  }
  const result = await payer.checkNotification(notification);
  if (result.kind === 'forged') {
    throw refuse.invalid('NOTIFICATION_UNVERIFIED', `${provider} did not vouch for this notification.`);
  }
  if (result.kind === 'retry') {
    throw refuse.unavailable(
      'PROVIDER_UNAVAILABLE',
      `${provider} could not be asked to verify the notification; send it again later.`,
    );
  }
  const withdrawalIds = result.withdrawalIds.filter(isUuid).map((id) => id.toLowerCase());
  const externalIds = result.externalIds.filter((id) => id.length <= 100);
  if (withdrawalIds.length === 0 && externalIds.length === 0) return 0;
  const now = clock();
  // A send under way holds its lease (`next_attempt_at` = when it was leased + the lease): anything
  // due later than a lease taken now can reach is a poll's wait, never a send in flight.
  const woken = await db
    .updateTable('withdrawals')
    .set({ next_attempt_at: now })
    .where('status', '=', 'processing')
    .where('provider', '=', provider)
    .where('next_attempt_at', '>', new Date(now.getTime() + config.PAYOUTS_SEND_LEASE_MS))
    .where((eb) =>
      eb.or([
        ...(withdrawalIds.length > 0 ? [eb('id', 'in', withdrawalIds)] : []),
        ...(externalIds.length > 0 ? [eb('external_transaction_id', 'in', externalIds)] : []),
      ]),
    )
    .returning('id')
    .execute();
  if (woken.length > 0) {
    logger.info(
      { provider, withdrawal_ids: woken.map((row) => row.id) },
      'payouts asked about at once after a notification',
    );
    resources.sender.pull();
  }
  return woken.length;
}

/** Lower-case header names to their one value (a repeated header is not PayPal's). */
export function headerValues(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name.toLowerCase(),
      typeof value === 'string' ? value : undefined,
    ]),
  );
}
