import type { Capability } from '../capability.ts';
import { submissionApproved, userErased, userRegistered } from './handle.ts';
import { referralRoutes } from './routes.ts';
import { rulesOf } from './rules.ts';
import { referralsMigrations } from './tables.ts';

/**
 * Referrals: every user has a code; a signup with someone's code makes them its referrer, paid
 * once from promotions when the new contributor's first approvals qualify it. Company users
 * neither refer nor are referred; a self-referral is recorded as rejected and never paid.
 */
export const referrals: Capability = {
  name: 'referrals',
  migrations: referralsMigrations,
  routes: referralRoutes,
  handlers: ({ config, logger }) => {
    const rules = rulesOf(config);
    return {
      'identity.user.registered.v1': (event, trx) => userRegistered(trx, event, { rules, logger }),
      'submissions.submission.approved.v1': (event, trx) =>
        submissionApproved(
          trx,
          {
            userId: event.data.contributor_id.toLowerCase(),
            submissionId: event.data.submission_id.toLowerCase(),
            at: new Date(event.time),
            cause: event,
          },
          rules,
        ),
      'identity.user.erased.v1': (event, trx) => userErased(trx, event.data.user_id.toLowerCase()),
    };
  },
};
