import { type Logger, type PeriodicJob, startPeriodicJob } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';

// STUB: replaced by the implementation.
export async function expireDueAssignments(
  _db: Kysely<TasksDB>,
  _options: { now?: Date; limit?: number } = {},
): Promise<number> {
  return 0;
}

export function startAssignmentExpiry(options: {
  db: Kysely<TasksDB>;
  logger: Logger;
  intervalMs: number;
}): PeriodicJob {
  return startPeriodicJob({
    name: 'assignment-expiry',
    ...options,
    work: () => expireDueAssignments(options.db),
  });
}
