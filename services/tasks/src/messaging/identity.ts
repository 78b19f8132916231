import type { HandlerMap } from '@tessera/service-kit';
import type { TasksDB } from '../db/schema.ts';

// STUB: replaced by the implementation.
export function identityHandlers(): HandlerMap<TasksDB> {
  return {};
}
