import type { Logger } from '@tessera/service-kit';
import type { PayoutsConfig } from '../config.ts';
import { paypalProvider } from './paypal.ts';
import { manualProvider, type PayoutProvider } from './provider.ts';

/** The provider the configuration names. */
export function openProvider(config: PayoutsConfig, logger: Logger): PayoutProvider {
  switch (config.PAYOUTS_PROVIDER) {
    case 'manual':
      return manualProvider;
    case 'paypal': {
      // The config's checks already require both; this keeps the types honest.
      if (!config.PAYPAL_CLIENT_ID || !config.PAYPAL_CLIENT_SECRET) {
        throw new Error('PAYOUTS_PROVIDER=paypal needs PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET');
      }
      return paypalProvider({
        baseUrl: config.PAYPAL_API_BASE,
        clientId: config.PAYPAL_CLIENT_ID,
        clientSecret: config.PAYPAL_CLIENT_SECRET,
        logger,
        ...(config.PAYPAL_WEBHOOK_ID ? { webhookId: config.PAYPAL_WEBHOOK_ID } : {}),
      });
    }
  }
}
