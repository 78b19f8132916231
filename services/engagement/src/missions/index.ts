import type { Capability } from '../capability.ts';
import { taskTypeOf } from '../catalog/index.ts';
import { recordActivity } from './handle.ts';
import { forgetUser } from './repository.ts';
import { missionRoutes } from './routes.ts';
import { missionsMigrations } from './tables.ts';

/**
 * Daily missions: admins define them ("5 approved audio tasks today"); approvals and counted
 * reviews move each user's progress in their local day; the completion is rewarded once.
 */
export const missions: Capability = {
  name: 'missions',
  migrations: missionsMigrations,
  routes: missionRoutes,
  handlers: () => ({
    'submissions.submission.approved.v1': async (event, trx) =>
      recordActivity(trx, {
        userId: event.data.contributor_id.toLowerCase(),
        causeId: event.data.submission_id.toLowerCase(),
        activity: { kind: 'approval', taskType: await taskTypeOf(trx, event.data.task_id) },
        at: new Date(event.time),
        cause: event,
      }),
    'qc.review.counted.v1': (event, trx) =>
      recordActivity(trx, {
        userId: event.data.judge_id.toLowerCase(),
        causeId: event.data.review_id.toLowerCase(),
        activity: { kind: 'review' },
        at: new Date(event.time),
        cause: event,
      }),
    'identity.user.erased.v1': (event, trx) => forgetUser(trx, event.data.user_id.toLowerCase()),
  }),
};
