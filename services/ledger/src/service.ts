import {
  createDatabase,
  ensureDatabase,
  type KitTables,
  migrateToLatest,
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
  startService,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { loadSealSigner } from './audit/seal-keys.ts';
import { createSealer, type Sealer } from './audit/sealer.ts';
import { auditMigrations } from './audit/tables.ts';
import type { LedgerConfig } from './config.ts';
import { createLedger, type LedgerOptions } from './engine/ledger.ts';
import type { LedgerEngine } from './engine/types.ts';
import { startExpiryJob } from './jobs/expiry.ts';
import { ledgerConsumers } from './messaging/consumers.ts';
import { createHttpOutcomePublisher } from './messaging/http-outcomes.ts';
import { type MessagingTables, messagingMigrations } from './messaging/schema.ts';
import { createProjector } from './projections/projector.ts';
import { projectionMigrations, type ProjectionTables } from './projections/schema.ts';
import { registerRoutes } from './routes/index.ts';
import type { EventStore } from './store/event-store.ts';
import { createPostgresEventStore, postgresEventStoreMigrations } from './store/postgres-store.ts';

export interface LedgerDB extends KitTables, ProjectionTables, MessagingTables {}

/** Every table of the ledger's database, in name order: store 0001, projections 0100/0110, audit 0200. */
export const ledgerMigrations = {
  ...postgresEventStoreMigrations,
  ...projectionMigrations,
  ...messagingMigrations,
  ...auditMigrations,
};

/** What the service is built around: the event store and the write-side engine on it. */
export interface LedgerCore {
  store: EventStore;
  engine: LedgerEngine;
}

export function ledgerDefinition(config: LedgerConfig, core: LedgerCore): ServiceDefinition<LedgerDB> {
  return {
    name: 'ledger',
    description: 'Double-entry accounts and transfers as an append-only event stream; balances; audit',
    migrations: ledgerMigrations,
    routes: (app, { db }) => registerRoutes(app, { db, engine: core.engine, config }),
    consumers: ({ logger }) =>
      ledgerConsumers({
        engine: core.engine,
        feeBps: config.PLATFORM_FEE_BPS,
        currency: config.LEDGER_CURRENCY,
        logger,
      }),
  };
}

/** The event store the configuration names; the Postgres one gets its own pool (see startLedger). */
export async function openEventStore(
  config: Pick<
    LedgerConfig,
    'LEDGER_EVENT_STORE' | 'KURRENTDB_URL' | 'DATABASE_URL' | 'LEDGER_PROJECTION_POLL_MS'
  >,
): Promise<EventStore> {
  if (config.LEDGER_EVENT_STORE === 'kurrentdb') {
    if (!config.KURRENTDB_URL) throw new Error('KURRENTDB_URL is required when LEDGER_EVENT_STORE=kurrentdb');
    // Loaded only when chosen: the gRPC client is heavy, and most processes never need it.
    const { createKurrentDbEventStore } = await import('./store/kurrentdb-store.ts');
    return createKurrentDbEventStore({ connection: config.KURRENTDB_URL });
  }
  return createPostgresEventStore({
    db: config.DATABASE_URL,
    pollIntervalMs: config.LEDGER_PROJECTION_POLL_MS,
  });
}

export interface RunningLedger extends RunningService<LedgerDB>, LedgerCore {}

export interface LedgerStartOptions extends StartOptions {
  engine?: LedgerOptions;
  /** Background work besides consumers and relay; tests switch parts off to drive them by hand. */
  background?: { projector?: boolean; httpOutcomes?: boolean; expiry?: boolean; sealer?: boolean };
}

/**
 * Boots the ledger: the database (created and migrated), the event store and engine, then the
 * kit's service (HTTP, consumers, outbox relay), then the background work that follows the store:
 * the projector, the publisher of HTTP outcomes, the expiry job and the audit sealer; it listens
 * last. Stopping ends the background work first, then the service, then the store.
 */
export async function startLedger(
  config: LedgerConfig,
  options: LedgerStartOptions = {},
): Promise<RunningLedger> {
  // The store's tables must exist before anything reads it; startService re-runs this as a no-op.
  await ensureDatabase(config.DATABASE_URL);
  const migrator = createDatabase(config.DATABASE_URL, { max: 1 });
  try {
    await migrateToLatest(migrator, ledgerMigrations);
  } finally {
    await migrator.destroy();
  }

  // Its own pool: a consumer's transaction stays open while the engine appends, and sharing one
  // pool could let open handler transactions take every connection the appends wait for.
  const store = await openEventStore(config);
  const engine = createLedger(store, options.engine);
  let service: RunningService<LedgerDB>;
  try {
    // Listening comes last, once everything behind the routes runs.
    service = await startService(ledgerDefinition(config, { store, engine }), config, {
      ...options,
      listen: false,
    });
  } catch (error) {
    await store.close();
    throw error;
  }

  const { db, logger } = service;
  const enabled = { projector: true, httpOutcomes: true, expiry: true, sealer: true, ...options.background };
  const stops: (() => Promise<void>)[] = [];
  try {
    if (enabled.projector) {
      const projector = createProjector({
        db: db as unknown as Kysely<ProjectionTables>,
        store,
        logger: logger.child({ component: 'projector' }),
      });
      await projector.start();
      stops.push(() => projector.stop());
    }
    if (enabled.httpOutcomes) {
      const publisher = createHttpOutcomePublisher({
        db,
        store,
        logger: logger.child({ component: 'http-outcomes' }),
      });
      await publisher.start();
      stops.push(() => publisher.stop());
    }
    if (enabled.expiry) {
      const job = startExpiryJob({
        db: db as unknown as Kysely<ProjectionTables>,
        engine,
        logger: logger.child({ component: 'expiry' }),
        intervalMs: config.LEDGER_EXPIRY_INTERVAL_MS,
      });
      stops.push(() => job.stop());
    }
    if (enabled.sealer) {
      const sealer = await startSealer(config, db, store, logger);
      stops.push(() => sealer.stop());
    }
    if (options.listen) await service.app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    await stopAll(stops);
    await service.stop();
    await store.close();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await stopAll(stops);
      await service.stop();
      await store.close();
    })());
  return { ...service, store, engine, stop };
}

async function startSealer(
  config: LedgerConfig,
  db: Kysely<LedgerDB>,
  store: EventStore,
  logger: RunningService<LedgerDB>['logger'],
): Promise<Sealer> {
  const child = logger.child({ component: 'sealer' });
  const signer = await loadSealSigner({
    db,
    privateKey: config.LEDGER_SEAL_PRIVATE_KEY,
    production: config.NODE_ENV === 'production',
    logger: child,
  });
  const sealer = createSealer({ db, store, signer, logger: child });
  sealer.start();
  return sealer;
}

async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
  for (const stop of stops.reverse()) await stop();
}
