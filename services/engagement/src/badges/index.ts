import type { Cause } from '@tessera/service-kit';
import type { Capability } from '../capability.ts';
import { taskTypeOf, waitForCatalog } from '../catalog/index.ts';
import { judgeFeeHandlers } from '../judge-fees.ts';
import { type BadgeActivity, recordBadgeActivity } from './handle.ts';
import { forgetUser } from './repository.ts';
import { badgeRoutes } from './routes.ts';
import { badgesMigrations } from './tables.ts';

export { type UnlockedBadge, unlockedBadges } from './unlocked.ts';

type Recorder = (
  trx: Parameters<typeof recordBadgeActivity>[0],
  userId: string,
  activity: BadgeActivity,
  event: Cause & { time: string },
) => Promise<void>;

const record: Recorder = (trx, userId, activity, event) =>
  recordBadgeActivity(trx, {
    userId: userId.toLowerCase(),
    activity,
    at: new Date(event.time),
    cause: event,
  });

/**
 * Badges defined as data: each event that moves what a badge measures counts toward the user's
 * badges (each cause once) and unlocks, once per user, every badge whose criteria are now met.
 * Runs after standing, so a streak or trust score moved by the same event is already there.
 */
export const badges: Capability = {
  name: 'badges',
  migrations: badgesMigrations,
  routes: badgeRoutes,
  handlers: ({ clock, logger }) => ({
    'submissions.submission.received.v1': (event, trx) =>
      record(
        trx,
        event.data.contributor_id,
        { kind: 'received', submissionId: event.data.submission_id.toLowerCase() },
        event,
      ),
    'submissions.submission.approved.v1': async (event, trx) => {
      const taskType = await taskTypeOf(trx, event.data.task_id.toLowerCase());
      if (taskType === undefined) {
        // Counted once tasks announces the task, toward its type's badges too (catalog/waits.ts).
        await waitForCatalog(
          trx,
          {
            capability: 'badges',
            event,
            userId: event.data.contributor_id,
            taskId: event.data.task_id,
            now: clock(),
          },
          logger,
        );
        return;
      }
      await record(
        trx,
        event.data.contributor_id,
        { kind: 'approval', submissionId: event.data.submission_id.toLowerCase(), taskType },
        event,
      );
    },
    'qc.review.counted.v1': (event, trx) =>
      record(
        trx,
        event.data.judge_id,
        { kind: 'review', reviewId: event.data.review_id.toLowerCase() },
        event,
      ),
    'ledger.reward.paid.v1': (event, trx) =>
      record(trx, event.data.contributor_id, earning(event.data), event),
    // A real review's fee and a honeypot's alike (judge-fees.ts): the judge must not tell them apart.
    ...judgeFeeHandlers((fee, event, trx) => record(trx, fee.judge_id, earning(fee), event)),
    'ledger.promotion.paid.v1': (event, trx) => record(trx, event.data.user_id, earning(event.data), event),
    'engagement.contributor.trust-changed.v1': (event, trx) =>
      record(trx, event.data.user_id, { kind: 'standing' }, event),
    'identity.user.erased.v1': (event, trx) =>
      forgetUser(trx, event.data.user_id.toLowerCase(), new Date(event.time)),
  }),
};

const earning = (data: {
  transfer_id: string;
  amount: { amount: number; currency: string };
}): BadgeActivity => ({
  kind: 'earning',
  transferId: data.transfer_id.toLowerCase(),
  amount: data.amount.amount,
  currency: data.amount.currency,
});
