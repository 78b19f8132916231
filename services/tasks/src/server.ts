// The tasks service's process: HTTP, consumers, outbox relay, the claim-expiry and campaign
// schedule jobs, stopped cleanly on SIGINT / SIGTERM.
import { runProcess } from '@tessera/service-kit';
import { loadTasksConfig } from './config.ts';
import { startTasks } from './service.ts';

await runProcess(
  'tasks',
  () => loadTasksConfig(),
  (config, options) => startTasks(config, options),
);
