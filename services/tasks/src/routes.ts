import type { HttpApp } from '@tessera/service-kit';
import { assignmentRoutes } from './assignments/index.ts';
import { campaignRoutes } from './campaigns/index.ts';
import type { RouteDeps } from './context.ts';
import { feedRoutes } from './feed/index.ts';
import { taskRoutes } from './task-catalog/index.ts';
import { registerTasksSummary } from './admin-summary.ts';

export type { RouteDeps } from './context.ts';

export function registerRoutes(app: HttpApp, deps: RouteDeps): void {
  campaignRoutes(app, deps);
  feedRoutes(app, deps);
  taskRoutes(app, deps);
  assignmentRoutes(app, deps);
  registerTasksSummary(app, deps.db);
}
