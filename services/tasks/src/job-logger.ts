import { createLogger, type Logger } from '@tessera/service-kit';

let fallback: Logger | undefined;

/** Where a job run without the service's logger (a test, a script) reports a failed item. */
export function jobLogger(): Logger {
  fallback ??= createLogger({ name: 'tasks-jobs', level: 'warn', pretty: false });
  return fallback;
}
