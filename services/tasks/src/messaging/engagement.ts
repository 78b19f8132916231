import type { HandlerMap } from '@tessera/service-kit';
import type { TasksDB } from '../db/schema.ts';
import { newContributor } from './identity.ts';

/**
 * The engagement half of the eligibility read model: level and trust score, each with the time of
 * the event it reflects, so a late (retried) event never overwrites a newer value. A user identity
 * has not told us about yet gets a row with the defaults for the rest.
 */
export function engagementHandlers(): HandlerMap<TasksDB> {
  return {
    'engagement.contributor.level-changed.v1': async (event, trx) => {
      await trx
        .insertInto('contributors')
        .values({
          ...newContributor(event.data.user_id),
          level: event.data.level,
          level_changed_at: event.time,
        })
        .onConflict((oc) =>
          oc
            .column('user_id')
            .doUpdateSet((eb) => ({
              level: eb.ref('excluded.level'),
              level_changed_at: eb.ref('excluded.level_changed_at'),
            }))
            .where((eb) =>
              eb.or([
                eb('contributors.level_changed_at', 'is', null),
                eb('contributors.level_changed_at', '<=', eb.ref('excluded.level_changed_at')),
              ]),
            ),
        )
        .execute();
    },
    'engagement.contributor.trust-changed.v1': async (event, trx) => {
      // numeric(3,1): one decimal, as the contract says.
      const trust = Math.round(event.data.trust_score * 10) / 10;
      await trx
        .insertInto('contributors')
        .values({
          ...newContributor(event.data.user_id),
          trust_score: trust,
          trust_changed_at: event.time,
        })
        .onConflict((oc) =>
          oc
            .column('user_id')
            .doUpdateSet((eb) => ({
              trust_score: eb.ref('excluded.trust_score'),
              trust_changed_at: eb.ref('excluded.trust_changed_at'),
            }))
            .where((eb) =>
              eb.or([
                eb('contributors.trust_changed_at', 'is', null),
                eb('contributors.trust_changed_at', '<=', eb.ref('excluded.trust_changed_at')),
              ]),
            ),
        )
        .execute();
    },
  };
}
