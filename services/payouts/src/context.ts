import type { ServiceContext } from '@tessera/service-kit';
import type { PayoutsConfig } from './config.ts';
import type { PayoutsDB } from './db/schema.ts';
import type { PayoutProvider } from './providers/provider.ts';

/** What payouts opens besides the kit's pool: the provider that sends money. */
export interface PayoutsResources {
  provider: PayoutProvider;
}

/** What payouts' routes, consumers and workers are given. */
export type PayoutsContext = ServiceContext<PayoutsDB, PayoutsConfig, PayoutsResources>;
