import { pruneThrottle } from './db/throttle.ts';
import type { Identity } from './runtime.ts';

/** Periodic work: key rotation and pruning, stale throttle rows and idempotency keys. Returns the stopper. */
export function startMaintenance(identity: Identity): () => void {
  const run = async () => {
    await identity.keys.maintain();
    const dayAgo = new Date(identity.clock().getTime() - 24 * 3600_000);
    await pruneThrottle(identity.db, dayAgo);
    // Idempotency keys protect retries, which come within minutes, not days.
    await identity.db.deleteFrom('idempotency_keys').where('created_at', '<', dayAgo).execute();
  };
  const timer = setInterval(() => {
    run().catch((error: unknown) => identity.logger.error({ err: error }, 'identity maintenance failed'));
  }, identity.config.SIGNING_KEY_CHECK_INTERVAL_S * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
