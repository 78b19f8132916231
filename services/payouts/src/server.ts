// The payouts service's process: HTTP, consumers, outbox relay and its jobs, stopped cleanly on
// SIGINT / SIGTERM.
import { runService } from '@tessera/service-kit';
import { loadPayoutsConfig } from './config.ts';
import { payoutsDefinition } from './service.ts';

await runService(payoutsDefinition, () => loadPayoutsConfig());
