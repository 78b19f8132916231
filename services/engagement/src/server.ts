// The engagement service's process: HTTP (with the notification stream), consumers, outbox relay
// and its jobs, stopped cleanly on SIGINT / SIGTERM.
import { runService } from '@tessera/service-kit';
import { loadEngagementConfig } from './config.ts';
import { engagementDefinition } from './service.ts';

await runService(engagementDefinition, () => loadEngagementConfig());
