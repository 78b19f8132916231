export type { DependencyOptions, ResolvedDependency } from './dependency.ts';
export { MissingDependencyError } from './errors.ts';
export { TEST_NATS_ENV, TEST_POSTGRES_ENV, redactUrl, urlFromEnv, type Env } from './env.ts';
export { canConnect, findFreePort, freePortBesides, isPortFree, waitUntil } from './ports.ts';
export {
  describeExit,
  spawnGuarded,
  type GuardedProcess,
  type GuardedProcessOptions,
  type ProcessExit,
} from './guarded-process.ts';
export { containerRuntimeAnswers } from './containers.ts';
export {
  resolvePostgres,
  startEmbeddedPostgres,
  type PostgresOptions,
  type ResolvedPostgres,
} from './postgres.ts';
export {
  findNatsServer,
  natsServerMissing,
  resolveNats,
  startLocalNats,
  type NatsOptions,
  type ResolvedNats,
} from './nats.ts';
