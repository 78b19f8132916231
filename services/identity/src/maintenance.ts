import { pruneThrottle } from './db/throttle.ts';
import type { Identity } from './runtime.ts';

/**
 * Identity's periodic work: rotate and retire signing keys, prune stale login-throttle rows. (The
 * kit prunes idempotency keys.) Returns 0: the key store logs what it rotates itself.
 */
export async function runMaintenance(identity: Identity): Promise<number> {
  await identity.keys.maintain();
  const dayAgo = new Date(identity.clock().getTime() - 24 * 3600_000);
  await pruneThrottle(identity.db, dayAgo);
  return 0;
}
