import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import type { Logger } from '@tessera/service-kit';
import type { EventStore } from '../store/event-store.ts';
import { chainEvents } from './chain.ts';
import type { SealSigner } from './seal-keys.ts';
import { type AuditTables, SEALER_LOCK } from './tables.ts';

export interface SealerOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  store: EventStore;
  signer: SealSigner;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** A seal at least every this many events. */
  sealEvery?: number;
  /** And a seal of whatever is unsealed once the last seal is this old. */
  intervalMs?: number;
  /** How often `start()` looks for new events. */
  pollMs?: number;
  /** Events chained per transaction at most. */
  batchSize?: number;
  clock?: () => Date;
}

export interface SealerRun {
  /** Another sealer held the lock: this run did nothing. */
  skipped: boolean;
  chained: number;
  /** The seqs sealed by this run. */
  sealed: number[];
  tip: number;
}

export interface Sealer {
  runOnce(): Promise<SealerRun>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Hash-chains the store's global order into `audit_chain` and signs seals into `audit_seals`, off
 * the write path. Each batch is one transaction that takes a transaction-scoped advisory lock (so
 * one sealer at a time, and a crash leaves no lock behind), re-reads the chain's tip, reads the
 * events after the tip's checkpoint, and writes their links (and a seal when one is due) together:
 * a crash or a restart loses at most an uncommitted batch, and the sequence stays dense.
 */
export function createSealer(options: SealerOptions): Sealer {
  const db = options.db as Kysely<AuditTables>;
  const { store, signer, logger } = options;
  const sealEvery = options.sealEvery ?? 1000;
  const intervalMs = options.intervalMs ?? 60_000;
  const pollMs = options.pollMs ?? Math.min(1000, intervalMs);
  const batchSize = options.batchSize ?? 1000;
  const clock = options.clock ?? (() => new Date());
  if (!Number.isSafeInteger(sealEvery) || sealEvery < 1)
    throw new TypeError('sealEvery must be a positive integer');
  const startedAt = clock();

  type Step =
    { skipped: true } | { skipped: false; chained: number; sealed?: number; tip: number; more: boolean };

  async function step(): Promise<Step> {
    return db.transaction().execute(async (trx): Promise<Step> => {
      const { rows } = await sql<{
        locked: boolean;
      }>`select pg_try_advisory_xact_lock(${SEALER_LOCK}) as locked`.execute(trx);
      if (!rows[0]?.locked) return { skipped: true };
      const tip = await trx
        .selectFrom('audit_chain')
        .select(['seq', 'hash', 'checkpoint'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const lastSeal = await trx
        .selectFrom('audit_seals')
        .select(['seq', 'sealed_at'])
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const sealedSeq = lastSeal?.seq ?? 0;
      // Stop each batch at the next count-based seal, so seals fall every `sealEvery` events.
      const room = sealEvery - ((tip?.seq ?? 0) - sealedSeq);
      const limit = Math.max(0, Math.min(batchSize, room));
      const events = limit > 0 ? await store.readAll({ after: tip?.checkpoint, limit }) : [];
      const links = chainEvents(tip, events);
      if (links.length > 0) await trx.insertInto('audit_chain').values(links).execute();

      const head = links.at(-1) ?? tip;
      const unsealed = (head?.seq ?? 0) - sealedSeq;
      const caughtUp = events.length < limit;
      const now = clock();
      const lastSealAt = lastSeal?.sealed_at ?? startedAt;
      const due = unsealed >= sealEvery || (caughtUp && now.getTime() - lastSealAt.getTime() >= intervalMs);
      let sealed: number | undefined;
      if (head && unsealed > 0 && due) {
        const seal = signer.sign({ seq: head.seq, hash: head.hash, sealed_at: now.toISOString() });
        await trx
          .insertInto('audit_seals')
          .values({ ...seal, sealed_at: new Date(seal.sealed_at) })
          .execute();
        sealed = seal.seq;
      }
      return { skipped: false, chained: links.length, sealed, tip: head?.seq ?? 0, more: !caughtUp };
    });
  }

  async function runOnce(): Promise<SealerRun> {
    const run: SealerRun = { skipped: false, chained: 0, sealed: [], tip: 0 };
    for (;;) {
      const result = await step();
      if (result.skipped) return { ...run, skipped: run.chained === 0 && run.sealed.length === 0 };
      run.chained += result.chained;
      run.tip = result.tip;
      if (result.sealed !== undefined) run.sealed.push(result.sealed);
      if (!result.more) return run;
    }
  }

  let controller: AbortController | undefined;
  let loop: Promise<void> | undefined;

  async function run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const result = await runOnce();
        failures = 0;
        if (result.chained > 0 || result.sealed.length > 0) {
          logger.info(
            { chained: result.chained, sealed: result.sealed, tip: result.tip },
            'audit chain extended',
          );
        }
      } catch (error) {
        failures += 1;
        logger.error({ err: error, failures }, 'sealer run failed; retrying');
      }
      const wait = failures === 0 ? pollMs : Math.min(30_000, pollMs * 2 ** Math.min(failures, 5));
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  return {
    runOnce,
    start() {
      if (loop) return;
      controller = new AbortController();
      loop = run(controller.signal);
    },
    async stop() {
      controller?.abort();
      await loop;
      loop = undefined;
      controller = undefined;
    },
  };
}
