import type { HttpApp } from '@tessera/service-kit';
import type { RouteDeps } from './deps.ts';

// STUB: replaced by the implementation.
export function assignmentRoutes(_app: HttpApp, _deps: RouteDeps): void {}
