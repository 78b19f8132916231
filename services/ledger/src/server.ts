// The ledger's process: HTTP, consumers, outbox relay, projector, expiry job and audit sealer,
// stopped cleanly on SIGINT / SIGTERM.
import { runService } from '@tessera/service-kit';
import { loadLedgerConfig } from './config.ts';
import { ledgerDefinition } from './service.ts';

await runService(ledgerDefinition(), () => loadLedgerConfig());
