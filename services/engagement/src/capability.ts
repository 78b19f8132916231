import type { HandlerMap, HttpApp, ServiceMigration, Worker } from '@tessera/service-kit';
import type { EngagementContext } from './context.ts';
import type { EngagementDB } from './db/schema.ts';

/**
 * One part of engagement (standing, notifications, webhooks, ...): its tables, routes, the events
 * it reacts to, and its jobs. The service composes them; every capability that handles an event
 * runs in the same inbox transaction, so one delivery is applied by all of them or by none.
 */
export interface Capability {
  name: string;
  /** Named so that they sort in the order they must run (kysely runs them by name). */
  migrations?: Record<string, ServiceMigration>;
  routes?(app: HttpApp, context: EngagementContext): void;
  handlers?(context: EngagementContext): HandlerMap<EngagementDB>;
  workers?(context: EngagementContext): Worker[];
}
