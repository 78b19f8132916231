import type { HandlerMap } from '@tessera/service-kit';
import type { TasksDB } from '../db/schema.ts';
import type { ConsumerDeps } from './consumers.ts';

// STUB: replaced by the implementation.
export function ledgerHandlers(_deps: ConsumerDeps): HandlerMap<TasksDB> {
  return {};
}
