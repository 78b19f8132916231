import type { Capability } from '../capability.ts';
import { countApproval, forgetUser, relist } from './repository.ts';
import { leaderboardRoutes } from './routes.ts';
import { leaderboardsMigrations } from './tables.ts';

export { leaderboard } from './handle.ts';
export { periodStart } from './periods.ts';

/**
 * Leaderboards by week, month and all time, of XP and of approved work. XP totals follow every XP
 * entry through a trigger (tables.ts); approvals are counted here, once per submission. Identity's
 * events list and unlist users (only active contributors rank).
 */
export const leaderboards: Capability = {
  name: 'leaderboards',
  migrations: leaderboardsMigrations,
  routes: leaderboardRoutes,
  handlers: () => ({
    'submissions.submission.approved.v1': (event, trx) =>
      countApproval(
        trx,
        event.data.submission_id.toLowerCase(),
        event.data.contributor_id.toLowerCase(),
        new Date(event.time),
      ),
    'identity.user.registered.v1': (event, trx) => relist(trx, event.data.user_id.toLowerCase()),
    'identity.user.suspended.v1': (event, trx) => relist(trx, event.data.user_id.toLowerCase()),
    'identity.user.reinstated.v1': (event, trx) => relist(trx, event.data.user_id.toLowerCase()),
    'identity.user.erased.v1': (event, trx) => forgetUser(trx, event.data.user_id.toLowerCase()),
  }),
};
