/** Postgres or NATS could not be found or reached. The message says how to get it. */
export class MissingDependencyError extends Error {
  override readonly name = 'MissingDependencyError';

  constructor(
    readonly dependency: 'postgres' | 'nats',
    message: string,
  ) {
    super(message);
  }
}
