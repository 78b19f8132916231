import { companyMemberHandlers, type HandlerMap } from '@tessera/service-kit';
import { makeOpenClaimsDue } from '../assignments/index.ts';
import type { TasksDB } from '../db/schema.ts';
import {
  accountStatusChanged,
  contributorErased,
  contributorRegistered,
  profileChanged,
} from '../eligibility/index.ts';

/**
 * The identity half of the eligibility read model (role, status, country, languages) and who
 * belongs to which company. Each row remembers the time of the event it reflects, per source, so
 * an event handled late (after a retry) never undoes a newer one. A suspended or erased
 * contributor's open claims are made due at once (a suspension's only when it applied: not one a
 * reinstatement already followed); the expiry job frees them.
 */
export function identityHandlers(): HandlerMap<TasksDB> {
  return {
    'identity.user.registered.v1': (event, trx) =>
      contributorRegistered(trx, event.data.user_id, event.time, {
        country: event.data.country,
        languages: event.data.languages,
        role: event.data.role,
      }),
    'identity.user.profile-updated.v1': (event, trx) =>
      profileChanged(trx, event.data.user_id, event.time, {
        country: event.data.country,
        languages: event.data.languages,
      }),
    'identity.user.suspended.v1': async (event, trx) => {
      // A suspension older than the status held (a reinstatement came after it) frees nothing.
      if (await accountStatusChanged(trx, event.data.user_id, event.time, 'suspended'))
        await makeOpenClaimsDue(trx, event.data.user_id, new Date(event.time));
    },
    'identity.user.reinstated.v1': async (event, trx) => {
      await accountStatusChanged(trx, event.data.user_id, event.time, 'active');
    },
    'identity.user.erased.v1': async (event, trx) => {
      await contributorErased(trx, event.data.user_id, event.time);
      await makeOpenClaimsDue(trx, event.data.user_id, new Date(event.time));
    },
    // Who may act for which company (the kit's company access).
    ...companyMemberHandlers<TasksDB>(),
  };
}
