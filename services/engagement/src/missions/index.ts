import type { Capability } from '../capability.ts';
import { taskTypeOf, waitForCatalog } from '../catalog/index.ts';
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
  handlers: ({ clock, logger }) => ({
    'submissions.submission.approved.v1': async (event, trx) => {
      const taskType = await taskTypeOf(trx, event.data.task_id.toLowerCase());
      if (taskType === undefined) {
        // Counted once tasks announces the task, on the approval's own local day (catalog/waits.ts).
        await waitForCatalog(
          trx,
          {
            capability: 'missions',
            event,
            userId: event.data.contributor_id,
            taskId: event.data.task_id,
            now: clock(),
          },
          logger,
        );
        return;
      }
      await recordActivity(trx, {
        userId: event.data.contributor_id.toLowerCase(),
        causeId: event.data.submission_id.toLowerCase(),
        activity: { kind: 'approval', taskType },
        at: new Date(event.time),
        cause: event,
      });
    },
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
