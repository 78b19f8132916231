// The submissions service's process: HTTP, consumers, outbox relay and its workers, stopped cleanly
// on SIGINT / SIGTERM.
import { runService } from '@tessera/service-kit';
import { loadSubmissionsConfig } from './config.ts';
import { submissionsDefinition } from './service.ts';

await runService(submissionsDefinition, () => loadSubmissionsConfig());
