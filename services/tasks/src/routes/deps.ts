import type { Kysely } from 'kysely';
import type { TasksConfig } from '../config.ts';
import type { TasksDB } from '../db/schema.ts';

export interface RouteDeps {
  db: Kysely<TasksDB>;
  config: TasksConfig;
}
