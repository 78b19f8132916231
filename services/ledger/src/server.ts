// The ledger's process: HTTP, consumers, outbox relay, projector, expiry job and audit sealer,
// stopped cleanly on SIGINT / SIGTERM.
import { runProcess } from '@tessera/service-kit';
import { loadLedgerConfig } from './config.ts';
import { startLedger } from './service.ts';

await runProcess(
  'ledger',
  () => loadLedgerConfig(),
  (config, options) => startLedger(config, options),
);
