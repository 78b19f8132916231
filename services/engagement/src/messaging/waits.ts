import type { EventType, TesseraEvent } from '@tessera/contracts';
import {
  eachOnItsOwn,
  type EventHandler,
  type JobTrigger,
  jobTrigger,
  periodicJob,
  type Worker,
} from '@tessera/service-kit';
import { capabilities } from '../capabilities.ts';
import { dueWaits, peekWait, takeWait } from '../catalog/index.ts';
import type { EngagementContext } from '../context.ts';
import type { EngagementDB } from '../db/schema.ts';
import { lockUsersOf } from '../notifications/order.ts';

export const CATALOG_WAITS_JOB = 'engagement-catalog-waits';
const BATCH = 100;

/** The events that teach the catalog a task or a campaign: after one commits, the job looks at once. */
export const CATALOG_EVENTS: readonly EventType[] = [
  'tasks.campaign.created.v1',
  'tasks.task.published.v1',
  'tasks.task.updated.v1',
];

const triggers = new WeakMap<object, JobTrigger>();

/** The catalog job's trigger in this process: the tasks consumer pulls it after a catalog event commits. */
export function catalogWaitsTrigger(context: EngagementContext): JobTrigger {
  let trigger = triggers.get(context);
  if (!trigger) {
    trigger = jobTrigger();
    triggers.set(context, trigger);
  }
  return trigger;
}

/**
 * Applies the events that waited for their task or campaign (`catalog/waits.ts`) now that the
 * catalog knows it: each in a transaction of its own that takes the user locks the consumers take
 * (`lockUsersOf`, so it never deadlocks with them), takes the wait (one instance wins), and runs the
 * waiting capability's own handler of the event, which finds the task's type or the campaign's
 * company this time. Each capability applies an event once per cause, so a wait taken twice (it
 * cannot be) would change nothing either. Answers how many were applied.
 */
export async function applyDueWaits(context: EngagementContext): Promise<number> {
  const { db, logger, metrics } = context;
  const handlers = new Map(
    capabilities.map((capability) => [capability.name, capability.handlers?.(context) ?? {}]),
  );
  let applied = 0;
  for (;;) {
    const due = await dueWaits(db, BATCH);
    const done = await eachOnItsOwn(
      due,
      async (wait) => {
        const peeked = await peekWait(db, wait);
        if (!peeked) return 0;
        const handler = (
          handlers.get(wait.capability) as Record<string, EventHandler<EngagementDB>> | undefined
        )?.[peeked.type];
        if (!handler) throw new Error(`no handler of ${peeked.type} in capability ${wait.capability}`);
        return db.transaction().execute(async (trx) => {
          await lockUsersOf(trx, [peeked]);
          const event: TesseraEvent | undefined = await takeWait(trx, wait);
          if (!event) return 0;
          await handler(event, trx);
          return 1;
        });
      },
      {
        logger,
        message: 'applying an event that waited for its task or campaign failed; tried again next run',
        describe: (wait) => ({ event_id: wait.event_id, capability: wait.capability }),
        counted: { job: CATALOG_WAITS_JOB, metrics: metrics.jobs },
      },
    );
    const count = done.reduce<number>((sum, n) => sum + n, 0);
    applied += count;
    // A run whose items all failed stops here (they would come first again); the next run retries.
    if (due.length < BATCH || count === 0) return applied;
  }
}

export function catalogWaitsWorker(context: EngagementContext): Worker {
  return periodicJob({
    name: CATALOG_WAITS_JOB,
    intervalMs: context.config.ENGAGEMENT_CATALOG_WAITS_INTERVAL_MS,
    trigger: catalogWaitsTrigger(context),
    work: () => applyDueWaits(context),
  });
}
