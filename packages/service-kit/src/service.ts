import { type Kysely, sql } from 'kysely';
import { type Clock, systemClock } from './clock.ts';
import { ConfigError, type ServiceConfig } from './config.ts';
import { createDatabase, ensureDatabase, pingDatabase } from './db/database.ts';
import type { KitTables } from './db/kit-migrations.ts';
import { migrateToLatest, type ServiceMigration } from './db/migrate.ts';
import { pruneKitTables } from './db/prune.ts';
import { createHttpApp, type HttpApp } from './http/app.ts';
import { createTokenVerifier, type TokenVerifier } from './http/auth.ts';
import { periodicJob, type Running, type Worker } from './jobs.ts';
import { createLogger, type Logger } from './logger.ts';
import { awaitStream, type Bus, connectBus, ensureStream } from './messaging/bus.ts';
import { busOptionsFor } from './messaging/bus-config.ts';
import { EventConsumer, type EventConsumerOptions } from './messaging/consumer.ts';
import { registerDeadLetterRoutes } from './messaging/dead-letters.ts';
import { registerParkedItemRoutes } from './parked-items.ts';
import { createServiceMetrics, type ServiceMetrics } from './metrics/service-metrics.ts';
import { OutboxRelay } from './messaging/outbox-relay.ts';
import { pruneRevocations, revocationConsumer, withRevocationCheck } from './read-models/revocations.ts';
import { processTracing, type Tracing } from './tracing/tracing.ts';

/** What a service's routes, consumers and workers are given. */
export interface ServiceContext<
  DB extends KitTables,
  C extends ServiceConfig = ServiceConfig,
  R = undefined,
> {
  config: C;
  db: Kysely<DB>;
  bus: Bus;
  logger: Logger;
  clock: Clock;
  /** The service's Prometheus registry (served on `GET /metrics`), for the service's own figures. */
  metrics: ServiceMetrics;
  /** What the definition's `resources.open` built (an event store, keys, a second pool). */
  resources: R;
}

export type ConsumerSpec<DB extends KitTables> = Omit<EventConsumerOptions<DB>, 'db' | 'bus' | 'logger'>;

/**
 * What a service is: its name (= the producer of its events), tables, the resources it opens, its
 * routes, consumers and workers. The kit owns the lifecycle: it creates and migrates the database,
 * connects the bus, opens the resources, registers routes, starts the relay, consumers and workers,
 * listens last, and stops everything in reverse on SIGINT / SIGTERM.
 */
export interface ServiceDefinition<
  DB extends KitTables,
  C extends ServiceConfig = ServiceConfig,
  R = undefined,
> {
  name: string;
  description?: string;
  version?: string;
  migrations?: Record<string, ServiceMigration>;
  /** Opened after the migrations, before anything that uses them; closed after everything stopped. */
  resources?: {
    open(context: ServiceContext<DB, C, undefined>): Promise<R> | R;
    close?(resources: R): Promise<void>;
  };
  /** A service that verifies tokens itself (identity, against its own keys) instead of over JWKS_URL. */
  tokens?: (context: ServiceContext<DB, C, R>) => TokenVerifier;
  routes?: (app: HttpApp, context: ServiceContext<DB, C, R>) => void | Promise<void>;
  consumers?: (context: ServiceContext<DB, C, R>) => ConsumerSpec<DB>[];
  /** Background work besides the consumers and the relay: jobs, projectors, sealers. */
  workers?: (context: ServiceContext<DB, C, R>) => Worker[];
  /** The jobs that park the items they keep failing on (`eachOnItsOwn`): their operator routes. */
  parkingJobs?: readonly string[];
}

export interface RunningService<
  DB extends KitTables,
  C extends ServiceConfig = ServiceConfig,
  R = undefined,
> extends ServiceContext<DB, C, R> {
  app: HttpApp;
  relay: OutboxRelay;
  consumers: EventConsumer<DB>[];
  /** The workers that run, by name. */
  workers: Map<string, Running>;
  stop(): Promise<void>;
}

/** The kit's own worker: prunes the outbox, inbox and idempotency keys of the service's database. */
export const KIT_PRUNE_WORKER = 'kit-prune';

export interface StartOptions {
  /** Listen on HOST:PORT (the process); tests use `app.inject` instead. */
  listen?: boolean;
  logger?: Logger;
  tokens?: TokenVerifier;
  clock?: Clock;
  relayPollIntervalMs?: number;
  consumerOverrides?: Partial<
    Pick<EventConsumerOptions<KitTables>, 'ackWaitMs' | 'backoffMs' | 'maxDeliver'>
  >;
  /** Workers switched off by name (tests drive their work by hand); all run by default. */
  workers?: Record<string, boolean>;
  /** Where spans go; by default the process's tracing, set up from OTEL_* variables. */
  tracing?: Tracing;
}

/** Boots a service; on a failure part-way, whatever already started is stopped again. */
export async function startService<DB extends KitTables, C extends ServiceConfig, R>(
  definition: ServiceDefinition<DB, C, R>,
  config: C,
  options: StartOptions = {},
): Promise<RunningService<DB, C, R>> {
  const logger = options.logger ?? createLogger({ name: definition.name, level: config.LOG_LEVEL });
  const undo: (() => Promise<unknown>)[] = [];
  const unwind = async () => {
    for (const step of undo.reverse()) {
      await step().catch((error: unknown) => logger.error({ err: error }, 'stopping failed'));
    }
  };

  try {
    const busOptions = busOptionsFor(definition.name, config); // first: no credentials, no start
    await ensureDatabase(config.DATABASE_URL);
    const db = createDatabase<DB>(config.DATABASE_URL);
    undo.push(() => db.destroy());
    await migrateToLatest(db as Kysely<unknown>, definition.migrations);
    const bus = await connectBus(busOptions);
    undo.push(() => bus.close());
    const clock = options.clock ?? systemClock;
    const metrics = createServiceMetrics(definition.name, { processMetrics: options.listen === true });
    const base: ServiceContext<DB, C, undefined> = {
      config,
      db,
      bus,
      logger,
      clock,
      metrics,
      resources: undefined,
    };

    let resources = undefined as R;
    const owned = definition.resources;
    if (owned) {
      const opened = await owned.open(base);
      resources = opened;
      if (owned.close) undo.push(() => owned.close!(opened));
    }
    const context: ServiceContext<DB, C, R> = { ...base, resources };

    // A service that verifies identity's tokens over JWKS also applies identity's revocations.
    const jwksTokens = definition.tokens ? undefined : (options.tokens ?? jwksVerifier(config));
    const specs = [
      ...(definition.consumers?.(context) ?? []),
      ...(jwksTokens ? [revocationConsumer<DB>(definition.name)] : []),
    ];
    // Its own stream only; a stream it reads is its producer's to create (infra/nats/README.md).
    await ensureStream(bus, definition.name, { replicas: config.NATS_STREAM_REPLICAS });
    for (const producer of new Set(specs.map((s) => s.producer))) {
      if (producer === definition.name) continue;
      await awaitStream(bus, producer, { replicas: config.NATS_STREAM_REPLICAS, log: (m) => logger.info(m) });
    }

    const tokens = jwksTokens
      ? withRevocationCheck(jwksTokens, db)
      : (options.tokens ?? definition.tokens?.(context));
    const processWide = options.tracing ?? processTracing(definition.name);
    const tracing = processWide.enabled ? processWide : undefined;
    undo.push(() => processWide.flush());
    const kit = db as unknown as Kysely<KitTables>;
    /** Rows of a kit table matching a fixed condition, counted at each scrape. */
    const countOnScrape = (name: string, help: string, table: keyof KitTables, where: string) =>
      metrics.gaugeOnScrape(name, help, async () => {
        const { rows } = await sql<{ count: string }>`
          select count(*) as count from ${sql.table(table)} where ${sql.raw(where)}`.execute(kit);
        return Number(rows[0]?.count ?? 0);
      });
    countOnScrape(
      'tessera_outbox_backlog',
      'Committed outbox events not yet published.',
      'outbox',
      'published_at is null',
    );
    // What waits for an operator, read at scrape time so that an alert holds until it is dealt
    // with (infra/observability/alerts.yml); the counters only say when something was given up on.
    countOnScrape(
      'tessera_dead_letters_open',
      'Dead letters neither replayed nor dismissed.',
      'dead_letters',
      'replayed_at is null and dismissed_at is null',
    );
    countOnScrape(
      'tessera_job_items_parked',
      'Job items parked after failing again and again, not yet retried.',
      'job_item_failures',
      'parked_at is not null',
    );
    const app = await createHttpApp({
      metrics,
      ...(tracing ? { tracing } : {}),
      name: definition.name,
      ...(definition.version ? { version: definition.version } : {}),
      ...(definition.description ? { description: definition.description } : {}),
      logger,
      ...(tokens ? { tokens } : {}),
      rateLimitMax: config.RATE_LIMIT_MAX,
      maxEventLoopDelayMs: config.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
      trustProxy: config.TRUST_PROXY,
      readiness: [
        { name: 'postgres', check: () => pingDatabase(db as Kysely<unknown>) },
        { name: 'nats', check: () => bus.nc.flush() },
      ],
    });
    let closing: Promise<void> | undefined;
    const closeApp = () => (closing ??= app.close());
    undo.push(closeApp);
    const consumers = specs.map(
      (spec) =>
        new EventConsumer<DB>({
          ...spec,
          ...options.consumerOverrides,
          db,
          bus,
          logger: logger.child({ consumer: spec.name }),
          metrics: metrics.consumers,
          ...(tracing ? { tracing } : {}),
        }),
    );
    await definition.routes?.(app, context);
    if (consumers.length > 0 && tokens)
      registerDeadLetterRoutes(app, { service: definition.name, db, consumers });
    if (definition.parkingJobs?.length && tokens)
      registerParkedItemRoutes(app, { service: definition.name, db, jobs: definition.parkingJobs });
    await app.ready();

    const relay = new OutboxRelay({
      db: db as unknown as Kysely<KitTables>,
      bus,
      logger: logger.child({ component: 'outbox-relay' }),
      databaseUrl: config.DATABASE_URL,
      metrics: metrics.relay,
      ...(options.relayPollIntervalMs ? { pollIntervalMs: options.relayPollIntervalMs } : {}),
    });
    relay.start();
    undo.push(() => relay.stop());
    for (const consumer of consumers) {
      await consumer.start();
      undo.push(() => consumer.stop());
    }
    metrics.consumers.pendingOnScrape(async () => {
      const counts = await Promise.all(consumers.map(async (c) => [c.name, await c.pendingNow()] as const));
      return new Map(counts.filter((entry): entry is readonly [string, number] => entry[1] !== undefined));
    });

    const workers = new Map<string, Running>();
    for (const worker of [kitPruneWorker(context), ...(definition.workers?.(context) ?? [])]) {
      if (workers.has(worker.name)) throw new Error(`two workers named ${worker.name}`);
      if (options.workers?.[worker.name] === false) continue;
      const running = await worker.start(logger.child({ worker: worker.name }));
      workers.set(worker.name, running);
      undo.push(() => running.stop());
    }

    // Last: a request is never admitted before everything behind the routes runs.
    if (options.listen) await app.listen({ host: config.HOST, port: config.PORT });

    let stopping: Promise<void> | undefined;
    // The HTTP app closes first (no new work), then workers, consumers, relay, resources, bus, pool.
    const stop = () =>
      (stopping ??= (async () => {
        await closeApp();
        await unwind();
      })());
    return { ...context, app, relay, consumers, workers, stop };
  } catch (error) {
    await unwind();
    throw error;
  }
}

function jwksVerifier(config: ServiceConfig): TokenVerifier | undefined {
  if (!config.JWKS_URL) return undefined;
  return createTokenVerifier({
    jwksUrl: config.JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
}

function kitPruneWorker<DB extends KitTables>(context: ServiceContext<DB, ServiceConfig, unknown>): Worker {
  const { config, db, clock } = context;
  const hour = 3_600_000;
  return periodicJob({
    name: KIT_PRUNE_WORKER,
    intervalMs: config.KIT_PRUNE_INTERVAL_MS,
    work: async () =>
      (await pruneKitTables(db, clock(), {
        outboxMs: config.OUTBOX_RETENTION_HOURS * hour,
        inboxMs: config.INBOX_RETENTION_HOURS * hour,
        idempotencyKeysMs: config.IDEMPOTENCY_KEY_RETENTION_HOURS * hour,
      })) + (await pruneRevocations(db, clock())),
  });
}

/**
 * Process entry for a service: parse the configuration once, start, listen, and stop cleanly on
 * SIGINT / SIGTERM, including a signal that arrives while it is still starting. A configuration
 * error exits 1 with the message alone.
 */
export async function runService<DB extends KitTables, C extends ServiceConfig, R>(
  definition: ServiceDefinition<DB, C, R>,
  loadServiceConfig: () => C,
): Promise<RunningService<DB, C, R>> {
  const { name } = definition;
  let config: C;
  try {
    config = loadServiceConfig();
  } catch (error) {
    // A configuration mistake is the operator's to fix: say what, without a stack trace.
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ name, level: config.LOG_LEVEL });
  const starting = startService(definition, config, { listen: true, logger }).catch((error: unknown) => {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    starting
      .then((service) => service.stop())
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
  return starting;
}
