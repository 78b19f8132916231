import type { JobTrigger, ServiceContext } from '@tessera/service-kit';
import type { PayoutsConfig } from './config.ts';
import type { PayoutsDB } from './db/schema.ts';
import type { PayoutProvider } from './providers/provider.ts';

/** What payouts opens besides the kit's pool: the provider that sends money, and the sender's trigger. */
export interface PayoutsResources {
  provider: PayoutProvider;
  /** Pulled when a notification makes payouts due: the sender runs at once. */
  sender: JobTrigger;
}

/** What payouts' routes, consumers and workers are given. */
export type PayoutsContext = ServiceContext<PayoutsDB, PayoutsConfig, PayoutsResources>;
