import type { ConsumerSpec } from '@tessera/service-kit';
import type { PayoutsContext } from '../context.ts';
import type { PayoutsDB } from '../db/schema.ts';
import { eraseMethods } from '../methods/erasure.ts';
import { emailVerified, statusChanged, trustChanged, userRegistered } from '../users/repository.ts';
import {
  endWithdrawalsOnErasure,
  ledgerAnswered,
  lockUsersOf,
  userStatusChanged,
} from '../withdrawals/handle.ts';

/** Consumer names, also their keys in the inbox (tests wait on them). */
export const consumerNames = {
  identity: 'payouts-identity',
  engagement: 'payouts-engagement',
  ledger: 'payouts-ledger',
} as const;

/**
 * One durable consumer per stream read (nats-server 2.9: one filter each). Identity's and the
 * ledger's take the user locks of a batch first (`lockUsersOf`): a suspension and a hold placed
 * both decide whether a withdrawal goes on hold, each under its user's lock.
 */
export function payoutsConsumers({ clock, logger }: PayoutsContext): ConsumerSpec<PayoutsDB>[] {
  const log = logger.child({ component: 'withdrawals' });
  return [
    {
      name: consumerNames.identity,
      producer: 'identity',
      filter: 'identity.user.>',
      lockFirst: lockUsersOf,
      handlers: {
        'identity.user.registered.v1': (event, trx) =>
          userRegistered(trx, event.data.user_id, event.data.role),
        'identity.user.email-verified.v1': (event, trx) => emailVerified(trx, event.data.user_id),
        // Recorded, and each withdrawal this puts on hold or off it announced (frozen, unfrozen).
        'identity.user.suspended.v1': (event, trx) => userStatusChanged(trx, event, { now: clock() }),
        'identity.user.reinstated.v1': (event, trx) => userStatusChanged(trx, event, { now: clock() }),
        'identity.user.erased.v1': async (event, trx) => {
          await statusChanged(trx, event.data.user_id, 'erased', event.time);
          // First the withdrawals that still need the details (their holds released), then the details.
          await endWithdrawalsOnErasure(trx, event.data.user_id.toLowerCase(), {
            now: clock(),
            cause: event,
          });
          await eraseMethods(trx, event.data.user_id, clock());
        },
      },
    },
    {
      name: consumerNames.engagement,
      producer: 'engagement',
      filter: 'engagement.contributor.>',
      handlers: {
        'engagement.contributor.trust-changed.v1': (event, trx) =>
          trustChanged(trx, event.data.user_id, event.data.trust_score, event.time),
      },
    },
    {
      name: consumerNames.ledger,
      producer: 'ledger',
      filter: 'ledger.withdrawal.>',
      lockFirst: lockUsersOf,
      handlers: {
        'ledger.withdrawal.hold-placed.v1': (event, trx) => ledgerAnswered(trx, event, { now: clock(), log }),
        'ledger.withdrawal.hold-rejected.v1': (event, trx) =>
          ledgerAnswered(trx, event, { now: clock(), log }),
        'ledger.withdrawal.settled.v1': (event, trx) => ledgerAnswered(trx, event, { now: clock(), log }),
        'ledger.withdrawal.hold-released.v1': (event, trx) =>
          ledgerAnswered(trx, event, { now: clock(), log }),
      },
    },
  ];
}
