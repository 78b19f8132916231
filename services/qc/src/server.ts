// The QC service's process: HTTP, consumers, outbox relay and its workers, stopped cleanly on
// SIGINT / SIGTERM.
import { runService } from '@tessera/service-kit';
import { loadQcConfig } from './config.ts';
import { qcDefinition } from './service.ts';

await runService(qcDefinition, () => loadQcConfig());
