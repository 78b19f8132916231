import { type HttpApp, registerAdminSummary } from '@tessera/service-kit';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { TasksDB } from './db/schema.ts';

export const tasksSummarySchema = z.object({
  active_campaigns: z.number().int(),
  active_tasks: z.number().int(),
  /** Claims being worked on now. */
  open_assignments: z.number().int(),
});

/** Tasks' figures of the admin dashboard (the gateway composes them). */
export function registerTasksSummary(app: HttpApp, db: Kysely<TasksDB>): void {
  registerAdminSummary(app, tasksSummarySchema, async () => {
    const count = sql<number>`count(*)::int`.as('count');
    const [campaigns, tasks, assignments] = await Promise.all([
      db.selectFrom('campaigns').select(count).where('status', '=', 'active').executeTakeFirstOrThrow(),
      db.selectFrom('tasks').select(count).where('status', '=', 'active').executeTakeFirstOrThrow(),
      db.selectFrom('assignments').select(count).where('status', '=', 'active').executeTakeFirstOrThrow(),
    ]);
    return {
      active_campaigns: campaigns.count,
      active_tasks: tasks.count,
      open_assignments: assignments.count,
    };
  });
}
