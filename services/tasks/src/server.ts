// The tasks service's process: HTTP, consumers, outbox relay, the claim-expiry and campaign
// schedule jobs, stopped cleanly on SIGINT / SIGTERM.
import { runService } from '@tessera/service-kit';
import { loadTasksConfig } from './config.ts';
import { tasksDefinition } from './service.ts';

await runService(tasksDefinition, () => loadTasksConfig());
