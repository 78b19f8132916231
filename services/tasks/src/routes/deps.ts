import type { Kysely } from 'kysely';
import type { TasksConfig } from '../config.ts';
import type { TasksDB } from '../db/schema.ts';

export interface RouteDeps {
  db: Kysely<TasksDB>;
  config: TasksConfig;
  /** The feed's own pool (feed/feed-query.ts: its sessions plan the feed's walk). */
  feedDb: Kysely<TasksDB>;
}
