import { type Logger, type PeriodicJob, startPeriodicJob } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';

// STUB: replaced by the implementation.
export async function completeEndedCampaigns(
  _db: Kysely<TasksDB>,
  _options: { now?: Date } = {},
): Promise<number> {
  return 0;
}

export function startCampaignSchedule(options: {
  db: Kysely<TasksDB>;
  logger: Logger;
  intervalMs: number;
}): PeriodicJob {
  return startPeriodicJob({
    name: 'campaign-schedule',
    ...options,
    work: () => completeEndedCampaigns(options.db),
  });
}
