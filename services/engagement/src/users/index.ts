import { companyMemberHandlers } from '@tessera/service-kit';
import type { Capability } from '../capability.ts';
import type { EngagementDB } from '../db/schema.ts';
import { statusChanged, userErased, userRegistered } from './repository.ts';
import { userRoutes } from './routes.ts';
import { usersMigrations } from './tables.ts';

export { personOf } from './routes.ts';
export { timeZoneOf, userFacts, userStatus } from './repository.ts';
export { isTimeZone, localDay, localHour } from './time-zone.ts';

/** Users as identity announces them, company members (webhooks, announcements), time zones. */
export const users: Capability = {
  name: 'users',
  migrations: usersMigrations,
  routes: userRoutes,
  handlers: () => ({
    ...companyMemberHandlers<EngagementDB>(),
    'identity.user.registered.v1': (event, trx) =>
      userRegistered(trx, event.data.user_id, event.data.role, event.time),
    'identity.user.suspended.v1': (event, trx) =>
      statusChanged(trx, event.data.user_id, 'suspended', event.time),
    'identity.user.reinstated.v1': (event, trx) =>
      statusChanged(trx, event.data.user_id, 'active', event.time),
    'identity.user.erased.v1': (event, trx) => userErased(trx, event.data.user_id, event.time),
  }),
};
