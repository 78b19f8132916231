import type { Logger } from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { EventStore, RecordedEvent } from '../store/event-store.ts';
import type { ProjectionCheckpointTable } from './schema.ts';

interface CheckpointDB {
  projection_checkpoint: ProjectionCheckpointTable;
}

export interface CheckpointedSubscriptionOptions<DB extends CheckpointDB> {
  /** The row of `projection_checkpoint` this subscription owns. */
  name: string;
  db: Kysely<DB>;
  store: EventStore;
  logger: Logger;
  /** Applies a batch inside the transaction that moves the checkpoint past it. */
  apply: (trx: Transaction<DB>, events: readonly RecordedEvent[]) => Promise<void>;
  /** Runs after a batch committed (in-process listeners; must not throw). */
  onCommitted?: (events: readonly RecordedEvent[]) => void;
  maxBatch?: number;
  /** How long to wait for more events before applying a partial batch. */
  lingerMs?: number;
  retryDelayMs?: number;
}

const IDLE = Symbol('idle');

/**
 * Follows the event store from a stored checkpoint and applies each batch in one transaction
 * that also stores the batch's last checkpoint, so rows and checkpoint never disagree. The
 * checkpoint row is locked and compared first: when another process (a second instance, a
 * rebuild) moved it, the batch is dropped and the subscription resumes from where that one left.
 * Failures are logged and retried from the stored checkpoint; nothing is ever skipped.
 */
export class CheckpointedSubscription<DB extends CheckpointDB> {
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: CheckpointedSubscriptionOptions<DB>) {}

  private get db(): Kysely<CheckpointDB> {
    return this.options.db as unknown as Kysely<CheckpointDB>;
  }

  async start(): Promise<void> {
    await this.db
      .insertInto('projection_checkpoint')
      .values({ name: this.options.name, checkpoint: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.controller?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger, store } = this.options;
    while (!this.stopping) {
      const controller = new AbortController();
      this.controller = controller;
      try {
        let expected = await this.storedCheckpoint();
        const events = store.subscribeAll({
          ...(expected !== null ? { after: expected } : {}),
          signal: controller.signal,
        });
        for await (const batch of batches(events, this.options.maxBatch ?? 500, this.options.lingerMs ?? 2)) {
          if (this.stopping) break;
          const last = batch.at(-1)!.checkpoint;
          if (!(await this.commit(batch, expected, last))) {
            logger.info({ subscription: this.options.name }, 'checkpoint moved elsewhere; resuming from it');
            break;
          }
          this.options.onCommitted?.(batch);
          expected = last;
        }
      } catch (error) {
        if (this.stopping) break;
        logger.error({ err: error, subscription: this.options.name }, 'subscription failed; retrying');
        await this.sleep(this.options.retryDelayMs ?? 1_000);
      } finally {
        controller.abort();
      }
    }
  }

  private async storedCheckpoint(): Promise<string | null> {
    const row = await this.db
      .selectFrom('projection_checkpoint')
      .select('checkpoint')
      .where('name', '=', this.options.name)
      .executeTakeFirst();
    return row?.checkpoint ?? null;
  }

  private commit(batch: readonly RecordedEvent[], expected: string | null, last: string): Promise<boolean> {
    return this.options.db.transaction().execute(async (trx) => {
      const kit = trx as unknown as Transaction<CheckpointDB>;
      const row = await kit
        .selectFrom('projection_checkpoint')
        .select('checkpoint')
        .where('name', '=', this.options.name)
        .forUpdate()
        .executeTakeFirst();
      if ((row?.checkpoint ?? null) !== expected) return false;
      await this.options.apply(trx, batch);
      await kit
        .updateTable('projection_checkpoint')
        .set({ checkpoint: last })
        .where('name', '=', this.options.name)
        .execute();
      return true;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/**
 * Groups what an async iterable yields into batches: whatever is ready within `lingerMs` of the
 * first item, up to `max`. A batch is never held back waiting for a full one.
 */
export async function* batches<T>(
  source: AsyncIterable<T>,
  max: number,
  lingerMs: number,
): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  const pull = () => {
    const next = iterator.next();
    // Left pending when the consumer stops; its rejection must not go unhandled.
    next.catch(() => undefined);
    return next;
  };
  let next = pull();
  for (;;) {
    const first = await next;
    if (first.done) return;
    const batch = [first.value];
    next = pull();
    while (batch.length < max) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<typeof IDLE>((resolve) => {
        timer = setTimeout(() => resolve(IDLE), lingerMs);
      });
      const result = await Promise.race([next, idle]);
      clearTimeout(timer);
      if (result === IDLE) break;
      if (result.done) {
        yield batch;
        return;
      }
      batch.push(result.value);
      next = pull();
    }
    yield batch;
  }
}
