import { taskTypes } from '@tessera/contracts';
import { z } from 'zod';

/** Most a mission may ask for in one day. */
export const MAX_MISSION_COUNT = 1_000;

const count = z.number().int().min(1).max(MAX_MISSION_COUNT);

/**
 * What a mission counts: approved submissions (of one task type, or any), or reviews that counted
 * toward a verdict. Strict: a `task_type` on a review mission is refused, not ignored.
 */
export const criteriaSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('tasks_completed'), count, task_type: z.enum(taskTypes).optional() }),
  z.strictObject({ type: z.literal('reviews_done'), count }),
]);

export type MissionCriteria = z.infer<typeof criteriaSchema>;
