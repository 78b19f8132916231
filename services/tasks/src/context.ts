import type { Clock } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksConfig } from './config.ts';
import type { TasksDB } from './db/schema.ts';

/** What tasks' routes are given. */
export interface RouteDeps {
  db: Kysely<TasksDB>;
  config: TasksConfig;
  clock: Clock;
  /** The feed's own pool (feed/repository.ts: its sessions plan the feed's walk). */
  feedDb: Kysely<TasksDB>;
  /** Told how long each contributor feed query took (the service's Prometheus histogram). */
  observeFeed?: (seconds: number) => void;
}
