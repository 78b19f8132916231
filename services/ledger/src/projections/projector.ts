import type { Logger } from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { EventStore } from '../store/event-store.ts';
import type { ProjectedTransfers } from './projected.ts';
import { applyEvents } from './repository.ts';
import { PROJECTOR_NAME, type ProjectionTables, projectionTables } from './schema.ts';
import { CheckpointedSubscription } from './subscription.ts';

/** The one projector: every projection table, advanced with its checkpoint in one transaction. */
export function createProjector(options: {
  db: Kysely<ProjectionTables>;
  store: EventStore;
  logger: Logger;
  /** Woken after each commit: this process's read-after-write waiters. */
  projected?: ProjectedTransfers;
}): CheckpointedSubscription<ProjectionTables> {
  const { projected } = options;
  return new CheckpointedSubscription<ProjectionTables>({
    name: PROJECTOR_NAME,
    db: options.db,
    store: options.store,
    logger: options.logger,
    apply: (trx, events) => applyEvents(trx, events),
    ...(projected ? { onCommitted: (events) => projected.committed(events) } : {}),
  });
}

/**
 * Empties every projection and replays the whole store into it, in one transaction: readers keep
 * seeing the old rows until the new ones commit (DELETE rather than TRUNCATE, which would lock them
 * out), and a running projector blocks on the checkpoint row, then resumes from the new checkpoint.
 */
export async function rebuildProjections(
  db: Kysely<ProjectionTables>,
  store: EventStore,
  options: { pageSize?: number; onProgress?: (events: number) => void } = {},
): Promise<{ events: number; checkpoint: string | null }> {
  await db
    .insertInto('projection_checkpoint')
    .values({ name: PROJECTOR_NAME, checkpoint: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return db.transaction().execute(async (trx: Transaction<ProjectionTables>) => {
    await trx
      .selectFrom('projection_checkpoint')
      .select('checkpoint')
      .where('name', '=', PROJECTOR_NAME)
      .forUpdate()
      .execute();
    for (const table of Object.keys(projectionTables) as (keyof typeof projectionTables)[]) {
      await trx.deleteFrom(table).execute();
    }
    let after: string | undefined;
    let events = 0;
    for (;;) {
      const page = await store.readAll({ ...(after ? { after } : {}), limit: options.pageSize ?? 1_000 });
      if (page.length === 0) break;
      await applyEvents(trx, page);
      after = page.at(-1)!.checkpoint;
      events += page.length;
      options.onProgress?.(events);
    }
    await trx
      .updateTable('projection_checkpoint')
      .set({ checkpoint: after ?? null })
      .where('name', '=', PROJECTOR_NAME)
      .execute();
    return { events, checkpoint: after ?? null };
  });
}

/**
 * Read-after-write: resolves true once the projections include transfer `id` (in state `state`
 * when given), false after `timeoutMs`. With `projected`, it reads again when this process's
 * projector commits the transfer (and every `intervalMs`, 250 by default, for another instance's
 * projector); without it, it polls every `intervalMs` (20 by default).
 */
export async function waitForTransfer(
  db: Kysely<ProjectionTables>,
  id: string,
  options: { timeoutMs: number; state?: string; intervalMs?: number; projected?: ProjectedTransfers },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? (options.projected ? 250 : 20);
  for (;;) {
    const remaining = Math.max(0, deadline - Date.now());
    // Listen before reading: a commit between the read and the wait would otherwise be missed.
    const wait = options.projected?.next(id, Math.min(interval, remaining));
    const row = await db.selectFrom('transfers').select('state').where('id', '=', id).executeTakeFirst();
    if (row && (options.state === undefined || row.state === options.state)) {
      wait?.cancel();
      return true;
    }
    if (Date.now() >= deadline) {
      wait?.cancel();
      return false;
    }
    await (wait?.woken ?? new Promise((resolve) => setTimeout(resolve, Math.min(interval, remaining))));
  }
}
