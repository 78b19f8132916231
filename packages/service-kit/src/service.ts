import type { Kysely, Migration } from 'kysely';
import { ConfigError, type ServiceConfig } from './config.ts';
import { createDatabase, ensureDatabase, pingDatabase } from './db/database.ts';
import type { KitTables } from './db/kit-migrations.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createHttpApp, type HttpApp } from './http/app.ts';
import { createTokenVerifier, type TokenVerifier } from './http/auth.ts';
import { createLogger, type Logger } from './logger.ts';
import { type Bus, connectBus, ensureStream } from './messaging/bus.ts';
import { EventConsumer, type EventConsumerOptions } from './messaging/consumer.ts';
import { registerDeadLetterRoutes } from './messaging/dead-letters.ts';
import { OutboxRelay } from './messaging/outbox-relay.ts';

export interface ServiceContext<DB extends KitTables> {
  config: ServiceConfig;
  db: Kysely<DB>;
  bus: Bus;
  logger: Logger;
}

export type ConsumerSpec<DB extends KitTables> = Omit<EventConsumerOptions<DB>, 'db' | 'bus' | 'logger'>;

/** What a service is: its name (= the producer of its events), tables, routes and consumers. */
export interface ServiceDefinition<DB extends KitTables> {
  name: string;
  description?: string;
  version?: string;
  migrations?: Record<string, Migration>;
  routes?: (app: HttpApp, context: ServiceContext<DB>) => void | Promise<void>;
  consumers?: (context: ServiceContext<DB>) => ConsumerSpec<DB>[];
}

export interface RunningService<DB extends KitTables> extends ServiceContext<DB> {
  app: HttpApp;
  relay: OutboxRelay;
  consumers: EventConsumer<DB>[];
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Listen on HOST:PORT (the process); tests use `app.inject` instead. */
  listen?: boolean;
  logger?: Logger;
  tokens?: TokenVerifier;
  relayPollIntervalMs?: number;
  consumerOverrides?: Partial<
    Pick<EventConsumerOptions<KitTables>, 'ackWaitMs' | 'backoffMs' | 'maxDeliver'>
  >;
}

/**
 * Boots a service: its database (created and migrated), the bus and the
 * streams it touches, the outbox relay, its consumers and its HTTP app.
 */
export async function startService<DB extends KitTables>(
  definition: ServiceDefinition<DB>,
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<RunningService<DB>> {
  const logger = options.logger ?? createLogger({ name: definition.name, level: config.LOG_LEVEL });
  await ensureDatabase(config.DATABASE_URL);
  const db = createDatabase<DB>(config.DATABASE_URL);
  await migrateToLatest(db as Kysely<unknown>, definition.migrations);
  const bus = await connectBus({ url: config.NATS_URL, name: definition.name, prefix: config.NATS_PREFIX });
  const context: ServiceContext<DB> = { config, db, bus, logger };

  const specs = definition.consumers?.(context) ?? [];
  for (const producer of new Set([definition.name, ...specs.map((s) => s.producer)])) {
    await ensureStream(bus, producer, { replicas: config.NATS_STREAM_REPLICAS });
  }

  const relay = new OutboxRelay({
    db: db as unknown as Kysely<KitTables>,
    bus,
    logger: logger.child({ component: 'outbox-relay' }),
    databaseUrl: config.DATABASE_URL,
    ...(options.relayPollIntervalMs ? { pollIntervalMs: options.relayPollIntervalMs } : {}),
  });
  const consumers = specs.map(
    (spec) =>
      new EventConsumer<DB>({
        ...spec,
        ...options.consumerOverrides,
        db,
        bus,
        logger: logger.child({ consumer: spec.name }),
      }),
  );

  const tokens =
    options.tokens ??
    (config.JWKS_URL
      ? createTokenVerifier({
          jwksUrl: config.JWKS_URL,
          issuer: config.JWT_ISSUER,
          audience: config.JWT_AUDIENCE,
        })
      : undefined);
  const app = await createHttpApp({
    name: definition.name,
    ...(definition.version ? { version: definition.version } : {}),
    ...(definition.description ? { description: definition.description } : {}),
    logger,
    ...(tokens ? { tokens } : {}),
    rateLimitMax: config.RATE_LIMIT_MAX,
    trustProxy: config.TRUST_PROXY,
    readiness: [
      { name: 'postgres', check: () => pingDatabase(db as Kysely<unknown>) },
      { name: 'nats', check: () => bus.nc.flush() },
    ],
  });
  await definition.routes?.(app, context);
  if (consumers.length > 0 && tokens)
    registerDeadLetterRoutes(app, { service: definition.name, db, consumers });
  await app.ready();

  relay.start();
  for (const consumer of consumers) await consumer.start();
  if (options.listen) await app.listen({ host: config.HOST, port: config.PORT });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      for (const consumer of consumers) await consumer.stop();
      await relay.stop();
      await bus.close();
      await db.destroy();
    })());

  return { ...context, app, relay, consumers, stop };
}

/** Process entry for a service: start, listen, and stop cleanly on SIGINT / SIGTERM. */
export function runService<DB extends KitTables>(
  definition: ServiceDefinition<DB>,
  loadServiceConfig: () => ServiceConfig,
  /** E.g. `tokens`: identity verifies its own tokens against its key store, not over HTTP. */
  options: Pick<StartOptions, 'tokens'> = {},
): Promise<RunningService<DB>> {
  return runProcess(definition.name, loadServiceConfig, (config, start) =>
    startService(definition, config, { ...options, ...start }),
  );
}

/**
 * Process entry for a service whose start is more than `startService` (the ledger opens its event
 * store and runs projectors): a configuration error exits 1 with the message alone; SIGINT and
 * SIGTERM stop it cleanly, including one that arrives while it is still starting.
 */
export async function runProcess<C extends ServiceConfig, R extends { stop(): Promise<void> }>(
  name: string,
  loadServiceConfig: () => C,
  start: (config: C, options: { listen: true; logger: Logger }) => Promise<R>,
): Promise<R> {
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
  const starting = start(config, { listen: true, logger }).catch((error: unknown) => {
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
  // Handled from the start: a signal while starting waits for the start, then stops.
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return starting;
}
