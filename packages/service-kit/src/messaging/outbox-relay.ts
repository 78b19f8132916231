import { subjectFor } from '@tessera/contracts';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { commitHorizon } from '../db/commit-horizon.ts';
import type { KitTables } from '../db/kit-migrations.ts';
import type { Logger } from '../logger.ts';
import type { RelayMetrics } from '../metrics/service-metrics.ts';
import type { Bus } from './bus.ts';
import { OUTBOX_CHANNEL } from './outbox.ts';

export interface OutboxRelayOptions {
  db: Kysely<KitTables>;
  bus: Bus;
  logger: Logger;
  /** When given, the relay LISTENs for commits instead of waiting for the next poll. */
  databaseUrl?: string;
  batchSize?: number;
  pollIntervalMs?: number;
  /** Where published events and their wait since commit are counted. */
  metrics?: RelayMetrics;
  /** Fault injection for tests: runs after publishing a batch, before marking it. */
  hooks?: { afterPublish?: (eventIds: string[]) => void | Promise<void> };
}

// One relay per database publishes at a time, so publication follows commit order.
const RELAY_LOCK = 0x7e55e7a;

// How soon to look again when committed rows wait behind an older transaction still open,
// doubling while they keep waiting, up to the poll interval.
const HELD_BACK_RETRY_MS = 5;

interface PendingRow {
  position: string;
  event_id: string;
  type: string;
  payload: { traceparent?: string };
  /** Its transaction is older than every transaction of this database still running: nothing can commit before it. */
  ready: boolean;
  /** Seconds since its commit (its insert, to the transaction's start), by the database's clock. */
  waited: number;
}

/**
 * Publishes committed outbox rows to JetStream with msgID = event id, so a row
 * published twice (relay died after publish, before mark) is de-duplicated.
 *
 * Positions come from a sequence, so a row with a smaller position can commit
 * after a larger one. Publishing only rows whose transaction id is below the
 * database's commit horizon (every transaction of this database that could
 * still commit a row there has finished: db/commit-horizon.ts) and ordering by
 * (transaction_id, position) publishes in commit order and can never skip a
 * late commit (as Emmett does, with the cluster's xmin).
 *
 * A batch is published with its acks awaited together, then marked in one
 * statement. Committed rows held back by an older open transaction of this
 * database are looked at again within milliseconds: no notification will
 * come for them.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private notified = false;
  private listener: pg.Client | undefined;

  constructor(private readonly options: OutboxRelayOptions) {}

  /** Publishes one batch; returns how many events it published. */
  async relayOnce(): Promise<number> {
    return (await this.relayBatch()).published;
  }

  private async relayBatch(): Promise<{ published: number; heldBack: boolean }> {
    const { db, bus } = this.options;
    const limit = this.options.batchSize ?? 200;
    return db.transaction().execute(async (trx) => {
      const lock = await sql<{
        locked: boolean;
      }>`select pg_try_advisory_xact_lock(${RELAY_LOCK}) as locked`.execute(trx);
      if (!lock.rows[0]?.locked) return { published: 0, heldBack: false };
      // Ready rows sort first: their transaction ids are below the horizon, every held-back one's are not.
      const { rows } = await sql<PendingRow>`
        select position, event_id, type, payload,
          transaction_id < ${commitHorizon} as ready,
          extract(epoch from clock_timestamp() - created_at)::float8 as waited
        from outbox
        where published_at is null
        order by transaction_id, position
        limit ${limit}`.execute(trx);
      const ready = rows.filter((row) => row.ready);
      const heldBack = ready.length < rows.length;
      if (ready.length === 0) return { published: 0, heldBack };
      // One connection preserves publish order; acks are awaited together.
      await bus.publisher.publishAll(
        ready.map((row) => ({
          subject: subjectFor(row.type, bus.ns),
          data: JSON.stringify(row.payload),
          msgID: row.event_id,
          ...(row.payload.traceparent ? { headers: { traceparent: row.payload.traceparent } } : {}),
        })),
      );
      this.options.metrics?.published(ready.length, Math.max(...ready.map((r) => r.waited)));
      await this.options.hooks?.afterPublish?.(ready.map((r) => r.event_id));
      const positions = ready.map((r) => r.position);
      await sql`update outbox set published_at = ${new Date()}
        where position = any(${positions}::bigint[])`.execute(trx);
      return { published: ready.length, heldBack };
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notified = true;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    await this.listen();
    let failures = 0;
    let heldBackRetries = 0;
    const pollMs = this.options.pollIntervalMs ?? 1_000;
    while (this.running) {
      let batch = { published: 0, heldBack: false };
      try {
        batch = await this.relayBatch();
        failures = 0;
      } catch (error) {
        failures += 1;
        logger.error({ err: error, failures }, 'outbox relay failed; retrying');
      }
      if (!batch.heldBack || batch.published > 0) heldBackRetries = 0;
      if (batch.published === (this.options.batchSize ?? 200)) continue;
      let pause = pollMs;
      if (failures > 0) pause = Math.min(30_000, 250 * 2 ** failures);
      else if (batch.heldBack) pause = Math.min(pollMs, HELD_BACK_RETRY_MS * 2 ** heldBackRetries++);
      await this.sleep(pause);
    }
  }

  /** Waits for a commit notification, stop() or the timeout; a notification that came while relaying counts. */
  private sleep(ms: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.notified = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async listen(): Promise<void> {
    if (!this.options.databaseUrl) return;
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    client.on('error', (error) => {
      this.options.logger.warn({ err: error }, 'outbox LISTEN connection lost; polling only');
      this.listener = undefined;
    });
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
      this.listener = client;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not LISTEN for outbox commits; polling only');
      await client.end().catch(() => undefined);
    }
  }
}
