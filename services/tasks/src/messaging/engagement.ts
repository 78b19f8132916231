import type { HandlerMap } from '@tessera/service-kit';
import type { TasksDB } from '../db/schema.ts';
import { levelChanged, trustChanged } from '../eligibility/index.ts';

/**
 * The engagement half of the eligibility read model: level and trust score, each with the time of
 * the event it reflects, so a late (retried) event never overwrites a newer value. A user identity
 * has not told us about yet gets a row with the defaults for the rest.
 */
export function engagementHandlers(): HandlerMap<TasksDB> {
  return {
    'engagement.contributor.level-changed.v1': (event, trx) =>
      levelChanged(trx, event.data.user_id, event.data.level, event.time),
    'engagement.contributor.trust-changed.v1': (event, trx) =>
      trustChanged(trx, event.data.user_id, event.data.trust_score, event.time),
  };
}
