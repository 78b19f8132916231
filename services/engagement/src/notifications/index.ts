import type { Capability } from '../capability.ts';
import { notificationHandlers } from './handlers.ts';
import { notificationRoutes } from './routes.ts';
import { notificationsMigrations } from './tables.ts';

export { announce, type Notice, notify, NOTIFICATIONS_CHANNEL } from './notify.ts';
export type { NotificationKind } from './texts.ts';

/**
 * In-app notifications: what happened to a user (work approved, money in, a withdrawal's fate, a
 * badge, a level), admins' announcements to an audience, a list with read marks, and a live
 * Server-Sent Events stream that resumes from Last-Event-ID.
 */
export const notifications: Capability = {
  name: 'notifications',
  migrations: notificationsMigrations,
  routes: notificationRoutes,
  handlers: notificationHandlers,
};
