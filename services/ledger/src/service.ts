import {
  type KitTables,
  type RunningService,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceMetrics,
  type StartOptions,
  startPeriodicJob,
  startService,
  type Worker,
} from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { loadSealSigner } from './audit/seal-keys.ts';
import { createSealer } from './audit/sealer.ts';
import { auditMigrations } from './audit/tables.ts';
import type { LedgerConfig } from './config.ts';
import { createLedger, type EngineObserver, type LedgerOptions } from './engine/ledger.ts';
import type { LedgerEngine } from './engine/types.ts';
import { expireDueTransfers } from './jobs/expiry.ts';
import { ledgerConsumers } from './messaging/consumers.ts';
import { createHttpOutcomePublisher } from './messaging/http-outcomes.ts';
import { type MessagingTables, messagingMigrations } from './messaging/schema.ts';
import { createProjectedTransfers, type ProjectedTransfers } from './projections/projected.ts';
import { createProjector } from './projections/projector.ts';
import { projectionMigrations, type ProjectionTables } from './projections/schema.ts';
import { registerRoutes } from './routes/index.ts';
import type { EventStore } from './store/event-store.ts';
import { createPostgresEventStore, postgresEventStoreMigrations } from './store/postgres-store.ts';

export interface LedgerDB extends KitTables, ProjectionTables, MessagingTables {}

/**
 * Every table of the ledger's database, in name order: store 0001-0003, projections 0100/0110, audit
 * 0200, messaging 0300/0310, store 0400, messaging 0410. Run as one set: a new migration, whichever part it belongs
 * to, must sort after every name here (`migrations.int.spec.ts`).
 */
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
  /** The projector's commits, for the routes' read-after-write waits. */
  projected: ProjectedTransfers;
}

export type LedgerContext = ServiceContext<LedgerDB, LedgerConfig, LedgerCore>;

/** Worker names, for tests that switch one off to drive its work by hand. */
export const ledgerWorkers = {
  projector: 'projector',
  httpOutcomes: 'http-outcomes',
  expiry: 'transfer-expiry',
  sealer: 'sealer',
} as const;

/**
 * The ledger on the kit: it opens the event store (its own pool: a consumer's transaction stays open
 * while the engine appends, and sharing one pool could let open handler transactions take every
 * connection the appends wait for) and the engine on it; the projector, the publisher of HTTP
 * outcomes, the expiry job and the audit sealer follow the store as workers.
 */
/** The writer's batches and answers as Prometheus histograms (see README: Metrics). */
function engineObserver(metrics: ServiceMetrics): EngineObserver {
  const batches = metrics.histogram(
    'tessera_ledger_batch_commands',
    'Commands answered by one committed append of the ledger writer.',
    { buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] },
  );
  const latency = metrics.histogram(
    'tessera_ledger_command_seconds',
    'From a command submitted to the writer to its answer (queue, decide, append, commit).',
    { labelNames: ['outcome'] as const },
  );
  return {
    batch: (commands) => batches.observe(commands),
    answered: (seconds, ok) => latency.observe({ outcome: ok ? 'accepted' : 'refused' }, seconds),
  };
}

export function ledgerDefinition(
  engineOptions: Omit<LedgerOptions, 'clock'> = {},
): ServiceDefinition<LedgerDB, LedgerConfig, LedgerCore> {
  return {
    name: 'ledger',
    description: 'Double-entry accounts and transfers as an append-only event stream; balances; audit',
    migrations: ledgerMigrations,
    resources: {
      async open({ config, clock, metrics }) {
        const store = await openEventStore(config);
        return {
          store,
          // KurrentDB refuses an expected revision ahead of the committed one at once, where Postgres
          // waits for the batch in flight (migration 0003): there a pipelined batch on a busy
          // constrained account would lose a race every time, so the writer runs one batch at a time.
          engine: createLedger(store, {
            ...(config.LEDGER_EVENT_STORE === 'kurrentdb' ? { pipelineDepth: 1 } : {}),
            ...engineOptions,
            clock,
            observer: engineObserver(metrics),
          }),
          projected: createProjectedTransfers(),
        };
      },
      close: ({ store }) => store.close(),
    },
    routes: (app, { db, config, resources }) =>
      registerRoutes(app, { db, engine: resources.engine, projected: resources.projected, config }),
    consumers: ({ config, db, logger, resources }) =>
      ledgerConsumers({
        engine: resources.engine,
        db,
        feeBps: config.PLATFORM_FEE_BPS,
        currency: config.LEDGER_CURRENCY,
        promotionsBudget: config.LEDGER_PROMOTIONS_BUDGET_MINOR,
        logger,
      }),
    parkingJobs: [ledgerWorkers.expiry],
    workers: (context) => ledgerBackground(context),
  };
}

function ledgerBackground({
  db,
  config,
  clock,
  metrics,
  resources: { store, engine, projected },
}: LedgerContext): Worker[] {
  const projections = db as unknown as Kysely<ProjectionTables>;
  return [
    {
      name: ledgerWorkers.projector,
      async start(logger) {
        const projector = createProjector({ db: projections, store, logger, projected });
        await projector.start();
        return projector;
      },
    },
    {
      name: ledgerWorkers.httpOutcomes,
      async start(logger) {
        const publisher = createHttpOutcomePublisher({ db, store, logger });
        await publisher.start();
        return publisher;
      },
    },
    {
      name: ledgerWorkers.expiry,
      start: (logger) =>
        startPeriodicJob({
          name: ledgerWorkers.expiry,
          intervalMs: config.LEDGER_EXPIRY_INTERVAL_MS,
          logger,
          work: () =>
            expireDueTransfers(projections, engine, logger, {
              now: clock(),
              counted: { job: ledgerWorkers.expiry, metrics: metrics.jobs },
            }),
        }),
    },
    {
      name: ledgerWorkers.sealer,
      async start(logger) {
        const signer = await loadSealSigner({
          db,
          privateKey: config.LEDGER_SEAL_PRIVATE_KEY,
          production: config.NODE_ENV === 'production',
          logger,
        });
        const sealer = createSealer({ db, store, signer, logger });
        sealer.start();
        return sealer;
      },
    },
  ];
}

/** The event store the configuration names; the Postgres one gets its own pool (see ledgerDefinition). */
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

export type RunningLedger = RunningService<LedgerDB, LedgerConfig, LedgerCore>;

export type LedgerStartOptions = StartOptions & { engine?: Omit<LedgerOptions, 'clock'> };

/** Starts the ledger in this process (tests, benchmarks); `server.ts` runs it with `runService`. */
export function startLedger(config: LedgerConfig, options: LedgerStartOptions = {}): Promise<RunningLedger> {
  const { engine, ...start } = options;
  return startService(ledgerDefinition(engine), config, start);
}
