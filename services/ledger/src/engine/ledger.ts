import { setTimeout as sleep } from 'node:timers/promises';
import { accountStream, transferIdOf, transferStream } from '../domain/accounts.ts';
import { decideExpiry, decideResolution } from '../domain/decide-resolution.ts';
import { parseTransferRequests } from '../domain/decide-transfers.ts';
import { InvalidRequestError, LedgerContentionError } from '../domain/errors.ts';
import { type TransferRecord, evolveTransfer, toTransfer } from '../domain/transfer-state.ts';
import type { PendingResolution } from '../domain/transfers.ts';
import { type EventStore, type StreamAppend, WrongExpectedRevisionError } from '../store/event-store.ts';
import { createAccountCache } from './account-cache.ts';
import {
  accountStreamsOf,
  type BatchView,
  type Command,
  type CommandOutcome,
  type DecidedBatch,
  decideBatch,
} from './batch.ts';
import { toEventToAppend, toStoredEvent } from './stored-events.ts';
import { createTransferCache } from './transfer-cache.ts';
import type { BatchStats, LedgerEngine, ResolutionOutcome, TransferOutcome } from './types.ts';

export interface LedgerOptions {
  clock?: () => Date;
  /** How many times a batch is decided again after losing an optimistic-concurrency race (default 100). */
  maxRetries?: number;
  /** How many folded account states the process keeps (default 100 000). */
  maxCachedAccounts?: number;
  /** How many recent transfers the process keeps for retries and resolutions (default 100 000). */
  maxCachedTransfers?: number;
  /** The most commands decided and appended together (default 512). */
  maxBatch?: number;
  /** Fault injection for tests: runs after a batch's append committed, before anyone is answered. */
  hooks?: { afterAppend?: (commands: number) => void | Promise<void> };
}

interface Queued {
  command: Command;
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * The ledger's write side: one writer per engine. Commands queue; the writer takes everything
 * that has accumulated (up to `maxBatch`, never waiting for more), decides each in order against
 * the account and transfer states it holds in memory (later commands see what earlier ones left),
 * appends the whole batch in ONE atomic append, and only then answers every caller. A refused
 * command is answered with its refusal and leaves the rest of the batch alone.
 *
 * The store stays the guarantee across processes: the append carries, per stream, `no_stream` for
 * every new transfer and newly opened account, the revision the batch started from for every
 * account whose constraint a command checked (and every pending transfer it resolves), and
 * `exists` elsewhere (credits, `world`: no serialization point). A batch that loses a race
 * refreshes what it lost on and is decided again; a transfer recorded elsewhere (or before a
 * restart) is found that way and replayed, so idempotency costs no read per command.
 */
export function createLedger(store: EventStore, options: LedgerOptions = {}): LedgerEngine {
  const clock = options.clock ?? (() => new Date());
  const maxRetries = options.maxRetries ?? 100;
  const maxBatch = options.maxBatch ?? 512;
  const accounts = createAccountCache(store, options.maxCachedAccounts ?? 100_000);
  const transfers = createTransferCache(options.maxCachedTransfers ?? 100_000);
  const queue: Queued[] = [];
  const stats: BatchStats = { batches: 0, commands: 0, largest: 0 };
  let draining = false;

  const view: BatchView = {
    account: (stream) => accounts.peek(stream) ?? { state: undefined, revision: -1 },
    transfer: (id) => transfers.get(id),
  };

  async function readTransfer(id: string): Promise<{ record: TransferRecord | undefined; revision: number }> {
    let record: TransferRecord | undefined;
    let revision = -1;
    for (const recorded of await store.readStream(transferStream(id))) {
      record = evolveTransfer(record, toStoredEvent(recorded));
      revision = recorded.revision;
    }
    return { record, revision };
  }

  async function learnTransfer(id: string): Promise<void> {
    const { record, revision } = await readTransfer(id);
    if (record) transfers.put(id, record, revision);
    else transfers.forget(id);
  }

  function submit(command: Command): Promise<CommandOutcome> {
    return new Promise((resolve, reject) => {
      queue.push({ command, resolve, reject });
      if (!draining) {
        draining = true;
        // Callers in the same tick join the first batch.
        queueMicrotask(() => void drain());
      }
    });
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        // What runBatch cannot survive answers the whole batch (one prefetch refused ignores it).
        await runBatch(batch).catch((error: unknown) => {
          for (const queued of batch) queued.reject(error);
        });
      }
    } finally {
      draining = false;
    }
  }

  /**
   * Loads what the batch needs and the writer does not hold: the pending transfer of a resolution,
   * then accounts on first use. A command whose state cannot be read is answered with the error alone.
   */
  async function prefetch(batch: Queued[]): Promise<Queued[]> {
    const failures = new Map<string, unknown>();
    const load = async (loads: Map<string, Promise<unknown>>) => {
      await Promise.all(
        [...loads].map(([key, loading]) => loading.catch((error: unknown) => void failures.set(key, error))),
      );
    };
    const pendings = new Map<string, Promise<unknown>>();
    for (const { command } of batch) {
      if (command.kind !== 'resolve' || transfers.get(command.pendingId).state) continue;
      const key = transferStream(command.pendingId);
      if (!pendings.has(key)) pendings.set(key, learnTransfer(command.pendingId));
    }
    await load(pendings);

    const needs = batch.map(({ command }) => {
      if (command.kind === 'transfer') return accountStreamsOf(command.requests);
      const pending = transfers.get(command.pendingId).state;
      const streams = [transferStream(command.pendingId)];
      if (pending) {
        streams.push(
          accountStream(pending.debit_account, pending.currency),
          accountStream(pending.credit_account, pending.currency),
        );
      }
      return streams;
    });
    const opened = new Map<string, Promise<unknown>>();
    for (const stream of needs.flat()) {
      if (transferIdOf(stream) !== undefined || accounts.peek(stream) || opened.has(stream)) continue;
      opened.set(stream, accounts.load(stream));
    }
    await load(opened);
    if (failures.size === 0) return batch;
    return batch.filter((queued, index) => {
      const failed = needs[index]?.find((key) => failures.has(key));
      if (failed === undefined) return true;
      queued.reject(failures.get(failed));
      return false;
    });
  }

  /** After a lost race: catch up the stream it was lost on (all unknown transfers, for a transfer). */
  async function refresh(lostOn: string, batch: Queued[]): Promise<void> {
    const lostTransfer = transferIdOf(lostOn);
    if (lostTransfer === undefined) {
      await accounts.load(lostOn);
      return;
    }
    const ids = new Set<string>([lostTransfer]);
    for (const { command } of batch) {
      if (command.kind === 'resolve') ids.add(command.pendingId);
      else for (const request of command.requests) if (!transfers.get(request.id).state) ids.add(request.id);
    }
    await Promise.all([...ids].map(learnTransfer));
  }

  /**
   * Decides and appends a batch until it commits, then answers it. Anything but a lost race
   * (a store failure, contention past maxRetries) is thrown, and `drain` answers the batch with it.
   */
  async function runBatch(batch: Queued[]): Promise<void> {
    for (let tries = 0; ; tries += 1) {
      const live = await prefetch(batch);
      if (live.length === 0) return;
      const decided = decideBatch(
        live.map((queued) => queued.command),
        view,
        clock(),
      );
      try {
        await appendBatch(decided);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (tries >= maxRetries) {
          throw new LedgerContentionError(
            `a batch of ${live.length} command(s): still losing races after ${tries} retries`,
            { cause: error },
          );
        }
        await refresh(error.stream, live);
        if (transferIdOf(error.stream) === undefined) await sleep(Math.random() * Math.min(50, 2 ** tries));
        batch = live;
        continue;
      }
      await options.hooks?.afterAppend?.(live.length);
      const again: Queued[] = [];
      live.forEach((queued, index) => {
        const outcome = decided.outcomes[index];
        if (outcome) queued.resolve(outcome);
        else again.push(queued);
      });
      queue.unshift(...again);
      stats.batches += 1;
      stats.commands += live.length - again.length;
      stats.largest = Math.max(stats.largest, live.length - again.length);
      return;
    }
  }

  /** One append for the whole batch; then the caches hold what it wrote. */
  async function appendBatch(decided: DecidedBatch): Promise<void> {
    const streams = [...decided.transfers, ...decided.accounts];
    if (streams.length === 0) return;
    const appends: StreamAppend[] = streams.map(({ stream, expected, events }) => ({
      stream,
      expected,
      events: events.map(toEventToAppend),
    }));
    const result = await store.append(appends);
    const revisions = result.streams.map((s) => s.revision);
    decided.transfers.forEach(({ state, base, events }, index) => {
      const revision = revisions[index] ?? -1;
      // Guarded by no_stream or its exact revision: nobody else wrote in between.
      if (state && revision === base + events.length) transfers.put(state.id, state, revision);
    });
    const offset = decided.transfers.length;
    decided.accounts.forEach(({ stream, state, base, events }, index) => {
      const revision = revisions[offset + index] ?? -1;
      // Someone else also appended to this (unconstrained) stream: keep the older fold, which the
      // next load catches up from.
      if (state && revision === base + events.length) accounts.put(stream, state, revision);
      else if (!state) accounts.forget(stream);
    });
  }

  function resolveWith(
    pendingId: string,
    decide: Extract<Command, { kind: 'resolve' }>['decide'],
  ): Promise<ResolutionOutcome> {
    if (typeof pendingId !== 'string' || pendingId.length === 0) {
      throw new InvalidRequestError('a pending transfer id is required');
    }
    return submit({ kind: 'resolve', pendingId, decide }) as Promise<ResolutionOutcome>;
  }

  return {
    async transfer(raw) {
      const parsed = parseTransferRequests(raw);
      if (!parsed.ok) return { ok: false, rejection: parsed.rejection };
      return submit({ kind: 'transfer', requests: parsed.requests }) as Promise<TransferOutcome>;
    },
    async resolve(resolution: PendingResolution) {
      if (resolution.action !== 'post' && resolution.action !== 'void') {
        throw new InvalidRequestError(
          `a pending transfer is posted or voided, not "${String(resolution.action)}"`,
        );
      }
      return resolveWith(resolution.pending_id, (transfer, now) =>
        decideResolution(resolution, { transfer, now }),
      );
    },
    async expire(pendingId: string, at?: Date) {
      return resolveWith(pendingId, (transfer, now) => decideExpiry(pendingId, { transfer, now: at ?? now }));
    },
    async getTransfer(id: string) {
      const { record } = await readTransfer(id);
      return record && toTransfer(record);
    },
    async getAccount(accountId: string, currency: string) {
      const { state, revision } = await accounts.load(accountStream(accountId, currency));
      return state && { ...state, flags: { ...state.flags }, revision };
    },
    stats: () => ({ ...stats }),
  };
}
