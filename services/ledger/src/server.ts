// The ledger's process: HTTP, consumers, outbox relay, projector, expiry job and audit sealer,
// stopped cleanly on SIGINT / SIGTERM. Like the kit's runService, with the ledger's own start.
import { ConfigError, createLogger } from '@tessera/service-kit';
import { type LedgerConfig, loadLedgerConfig } from './config.ts';
import { type RunningLedger, startLedger } from './service.ts';

let config: LedgerConfig;
try {
  config = loadLedgerConfig();
} catch (error) {
  // A configuration mistake is the operator's to fix: say what, without a stack trace.
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`ledger: ${error.message}\n`);
  process.exit(1);
}

const logger = createLogger({ name: 'ledger', level: config.LOG_LEVEL });
// Signals are handled from the start: a SIGTERM while starting waits for the start, then stops.
const starting: Promise<RunningLedger | undefined> = startLedger(config, { listen: true, logger }).catch(
  (error: unknown) => {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  },
);

const shutdown = (signal: string) => {
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, 10_000);
  force.unref();
  starting
    .then((ledger) => ledger?.stop())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
