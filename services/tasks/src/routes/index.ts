import type { HttpApp } from '@tessera/service-kit';
import { assignmentRoutes } from './assignments.ts';
import { campaignRoutes } from './campaigns.ts';
import type { RouteDeps } from './deps.ts';
import { feedRoutes } from './feed.ts';
import { taskRoutes } from './tasks.ts';

export type { RouteDeps } from './deps.ts';

export function registerRoutes(app: HttpApp, deps: RouteDeps): void {
  campaignRoutes(app, deps);
  feedRoutes(app, deps);
  taskRoutes(app, deps);
  assignmentRoutes(app, deps);
}
