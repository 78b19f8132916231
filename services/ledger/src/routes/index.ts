import type { HttpApp } from '@tessera/service-kit';
import { adminRoutes } from './admin.ts';
import { campaignRoutes } from './campaigns.ts';
import { companyRoutes } from './companies.ts';
import type { RouteDeps } from './deps.ts';
import { walletRoutes } from './wallet.ts';

export type { RouteDeps } from './deps.ts';

export function registerRoutes(app: HttpApp, deps: RouteDeps): void {
  walletRoutes(app, deps);
  companyRoutes(app, deps);
  campaignRoutes(app, deps);
  adminRoutes(app, deps);
}
