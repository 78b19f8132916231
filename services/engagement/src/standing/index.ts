import type { Capability } from '../capability.ts';
import { judgeFeeHandlers } from '../judge-fees.ts';
import { xpDecayWorker } from './decay.ts';
import {
  moneyEarned,
  recordActivity,
  reviewCounted,
  submissionApproved,
  submissionRejected,
  trustPenalty,
} from './handle.ts';
import { forgetActivity, markGolden } from './repository.ts';
import { standingRoutes } from './routes.ts';
import { standingMigrations } from './tables.ts';

export { awardXp, type XpApplied, type XpGrant, type XpSource } from './award.ts';
export { decayXp, XP_DECAY_JOB } from './decay.ts';
export { levelForXp, levelProgress, xpForLevel } from './levels.ts';
export { streakMultiplier } from './streaks.ts';

const id = (value: string) => value.toLowerCase();
const money = (data: { transfer_id: string; amount: { amount: number; currency: string } }) => ({
  transferId: id(data.transfer_id),
  amount: data.amount.amount,
  currency: data.amount.currency,
});

/**
 * Standing: XP and levels, streaks, the trust score, and the numbers stats and progress show.
 * Every effect happens once per cause (a submission, a review, a flag, a transfer), so redelivery
 * and replay change nothing; each event's time is when it happened.
 */
export const standing: Capability = {
  name: 'standing',
  migrations: standingMigrations,
  routes: standingRoutes,
  workers: (context) => [xpDecayWorker(context)],
  handlers: ({ config }) => ({
    'submissions.submission.received.v1': (event, trx) =>
      recordActivity(trx, { userId: id(event.data.contributor_id), at: new Date(event.time) }),
    'submissions.submission.validated.v1': async (event, trx) => {
      if (event.data.is_golden) await markGolden(trx, id(event.data.submission_id));
    },
    'submissions.submission.approved.v1': (event, trx) =>
      submissionApproved(trx, {
        userId: id(event.data.contributor_id),
        at: new Date(event.time),
        cause: event,
        submissionId: id(event.data.submission_id),
        xpReward: event.data.xp_reward,
        onAppeal: event.data.method === 'appeal',
      }),
    'submissions.submission.rejected.v1': (event, trx) =>
      submissionRejected(trx, {
        userId: id(event.data.contributor_id),
        at: new Date(event.time),
        cause: event,
        submissionId: id(event.data.submission_id),
        stage: event.data.stage,
      }),
    'submissions.contributor.flagged.v1': (event, trx) =>
      trustPenalty(trx, {
        userId: id(event.data.contributor_id),
        at: new Date(event.time),
        cause: event,
        kind: 'fraud_flag',
        key: `flag:${id(event.data.flag_id)}`,
      }),
    'qc.judge.removed.v1': (event, trx) =>
      trustPenalty(trx, {
        userId: id(event.data.judge_id),
        at: new Date(event.time),
        cause: event,
        kind: 'judge_removed',
        key: `judge-removed:${id(event.id)}`,
      }),
    'qc.review.counted.v1': (event, trx) =>
      reviewCounted(trx, {
        userId: id(event.data.judge_id),
        at: new Date(event.time),
        cause: event,
        reviewId: id(event.data.review_id),
        agreed: event.data.agreed,
        reviewXp: config.ENGAGEMENT_REVIEW_XP,
      }),
    'ledger.reward.paid.v1': (event, trx) =>
      moneyEarned(trx, {
        userId: id(event.data.contributor_id),
        at: new Date(event.time),
        cause: event,
        ...money(event.data),
      }),
    // A real review's fee and a honeypot's alike (judge-fees.ts): the judge must not tell them apart.
    ...judgeFeeHandlers((fee, event, trx) =>
      moneyEarned(trx, {
        userId: id(fee.judge_id),
        at: new Date(event.time),
        cause: event,
        ...money(fee),
      }),
    ),
    'ledger.promotion.paid.v1': (event, trx) =>
      moneyEarned(trx, {
        userId: id(event.data.user_id),
        at: new Date(event.time),
        cause: event,
        ...money(event.data),
      }),
    // Numbers are not personal and stay; when the user was active goes (and nothing is added later).
    'identity.user.erased.v1': (event, trx) =>
      forgetActivity(trx, id(event.data.user_id), new Date(event.time)),
  }),
};
