import type { Capability } from '../capability.ts';
import { dropHeld, releaseHeld } from './held.ts';
import { bonusesMigrations } from './tables.ts';

export { payOrHold } from './held.ts';

/**
 * Money bonuses of badges and missions while their user is suspended: held, then paid when identity
 * reinstates the user, or dropped when it erases them. Runs after users (the status is already the
 * event's) in the same transaction.
 */
export const bonuses: Capability = {
  name: 'bonuses',
  migrations: bonusesMigrations,
  handlers: () => ({
    'identity.user.reinstated.v1': async (event, trx) => {
      await releaseHeld(trx, event.data.user_id);
    },
    'identity.user.erased.v1': (event, trx) => dropHeld(trx, event.data.user_id),
  }),
};
