import type { z } from 'zod';
import type { HttpApp } from './app.ts';
import { requireRole } from './auth.ts';

/**
 * Where each service answers for its own figures of the admin dashboard. The gateway composes
 * them into `GET /api/v1/admin/dashboard` (infra/gateway/src/dashboard.ts); services never call each
 * other. Not under a routed prefix, so not public: the gateway calls it on the service's upstream
 * with the admin's own token.
 */
export const ADMIN_SUMMARY_PATH = '/admin/summary';

/** Registers the service's dashboard figures: admins only, cheap reads (counts on indexed columns). */
export function registerAdminSummary<S extends z.ZodType>(
  app: HttpApp,
  response: S,
  read: () => Promise<z.infer<S>>,
): void {
  app.get(
    ADMIN_SUMMARY_PATH,
    { preHandler: requireRole('admin'), schema: { hide: true, response: { 200: response } } },
    // The response schema validates what `read` returns; its generic type is beyond fastify's inference.
    () => read() as never,
  );
}
