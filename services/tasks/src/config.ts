import { loadConfig, serviceConfigSchema } from '@tessera/service-kit';
import { z } from 'zod';

/** The tasks service's environment: the kit's variables plus its own, parsed once at start. */
export const tasksConfigSchema = serviceConfigSchema.extend({
  /** How long a claim lasts when the task does not say (MTurk's assignment duration). */
  TASKS_DEFAULT_CLAIM_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(3600),
  /** How often the expiry job frees the slots of claims past their expiry time. */
  TASKS_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
  /** How often the schedule job completes campaigns past their end_at. */
  TASKS_SCHEDULE_INTERVAL_MS: z.coerce.number().int().min(50).default(10_000),
});

export type TasksConfig = z.infer<typeof tasksConfigSchema>;

export function loadTasksConfig(env: NodeJS.ProcessEnv = process.env): TasksConfig {
  return loadConfig(tasksConfigSchema, env);
}
