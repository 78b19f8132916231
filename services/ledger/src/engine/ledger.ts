import { setTimeout as sleep } from 'node:timers/promises';
import { traceparentOf } from '@tessera/service-kit';
import { accountStream, transferIdOf, transferStream } from '../domain/accounts.ts';
import { decideExpiry, decideResolution } from '../domain/decide-resolution.ts';
import { parseTransferRequests } from '../domain/decide-transfers.ts';
import { InvalidRequestError, LedgerContentionError } from '../domain/errors.ts';
import type { AccountState } from '../domain/account-state.ts';
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
  type Versioned,
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
  /** How many batches may be in flight at once, each decided on the one before (default 2; 1: none). */
  pipelineDepth?: number;
  /** Fault injection for tests: runs after a batch's append committed, before anyone is answered. */
  hooks?: { afterAppend?: (commands: number) => void | Promise<void> };
  /** Told of each committed batch and each answer (the service's Prometheus histograms). */
  observer?: EngineObserver;
}

export interface EngineObserver {
  /** A batch committed, answering `commands` commands. */
  batch(commands: number): void;
  /** A command was answered `seconds` after it was submitted; `ok` unless refused. */
  answered(seconds: number, ok: boolean): void;
}

/** A queue at least this long, with nothing in flight, is split across the pipeline. */
const SPLIT_FROM = 16;

/** A command that appended what it decided: it stands whatever became of the batches before it. */
const appended = (outcome: CommandOutcome) => outcome.ok && !outcome.replayed;

interface Queued {
  command: Command;
  /** Its place in the order commands reached the writer: decided (and requeued) in that order. */
  arrival: number;
  resolve: (outcome: CommandOutcome) => void;
  reject: (error: unknown) => void;
  /** Races this command's batches lost so far. */
  tries: number;
  /** performance.now() when it was submitted. */
  at: number;
  /**
   * A refusal decided while transfers of the command (`ids`) were unknown to the writer: recorded
   * before a restart, by another instance, or dropped from its cache? Answered only once the store
   * says none was; otherwise the command is decided again, as the retry it is.
   */
  lookup?: { refused: CommandOutcome; ids: string[] };
  /** Its transfers were read from the store after a refusal: the next refusal is answered. */
  lookedUp?: boolean;
}

/** A batch whose append is on its way to the store. */
interface InFlight {
  seq: number;
  live: Queued[];
  decided: DecidedBatch;
  /** Set when the append settled: its last revisions, or why it failed. */
  settled?: { revisions: number[] } | { error: unknown };
  wait: Promise<void>;
  /** An earlier batch it was decided on failed: only what it appended itself stands. */
  poisoned: boolean;
  /** It relies on a fold it could not keep: the next batch waits for it to settle. */
  barrier: boolean;
  /** Per account stream it writes: the tentative fold it started from (none: the writer's own). */
  startedFrom: Map<string, Tentative<AccountState> | undefined>;
  /** The tentative folds it left, by stream. */
  left: Map<string, Tentative<AccountState>>;
  /**
   * Refusals of earlier batches that named, unknown to the writer, transfers this batch creates:
   * answered once it settles (see `committed`).
   */
  deferred: Deferred[];
}

/** A refusal waiting for the later batch that creates transfers it named (`ids`, as unknown). */
interface Deferred {
  queued: Queued;
  refused: CommandOutcome;
  ids: string[];
}

/** What a batch left behind, seen by the batches decided while it is in flight. */
interface Tentative<T> {
  state: T | undefined;
  revision: number;
  seq: number;
  /** The batch creates the stream. */
  unsettled: boolean;
  /** The batch committed and this is the stream's true fold at `revision`. */
  confirmed?: boolean;
}

/**
 * The ledger's write side: one writer per engine. Commands queue; the writer takes everything
 * that has accumulated (up to `maxBatch`, never waiting for more), decides each in order against
 * the account and transfer states it holds in memory (later commands see what earlier ones left),
 * appends the whole batch in ONE atomic append, and only after it committed answers its callers.
 * A refused command is answered with its refusal and leaves the rest of the batch alone.
 *
 * Pipelined: while a batch's append is in flight, the next one (up to `pipelineDepth` in all) is
 * decided on the state the earlier left tentatively and appended at once, so deciding overlaps
 * committing and the store works on two appends. A batch is answered only after every earlier one
 * settled. When one fails, the writer stops taking new batches until the later ones settled: what
 * they appended stands (every state they relied on was checked by the store), and everything else
 * they decided (refusals, replays) is decided again.
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
  const depth = Math.max(1, options.pipelineDepth ?? 2);
  const { observer } = options;
  const accounts = createAccountCache(store, options.maxCachedAccounts ?? 100_000);
  const transfers = createTransferCache(options.maxCachedTransfers ?? 100_000);
  const tentativeAccounts = new Map<string, Tentative<AccountState>>();
  const tentativeTransfers = new Map<string, Tentative<TransferRecord>>();
  const queue: Queued[] = [];
  let arrivals = 0;
  const inFlight: InFlight[] = [];
  const stats: BatchStats = { batches: 0, commands: 0, largest: 0, overlapped: 0 };
  let draining = false;
  let seq = 0;
  /** Wakes the writer when a command arrives while it waits for a batch in flight. */
  let arrived: (() => void) | undefined;
  /** A failed batch's recovery, done once nothing is in flight: the streams it lost on. */
  let recovery: { lostOn: string[]; commands: Queued[]; tries: number } | undefined;

  /**
   * The transfers of the refusals being looked up (see `committed`), held from the read to the
   * batch's decision whatever the cache drops meanwhile (a linked chain larger than what it keeps).
   */
  const pinned = new Map<string, Versioned<TransferRecord>>();

  const view: BatchView = {
    account: (stream) =>
      tentativeAccounts.get(stream) ?? accounts.peek(stream) ?? { state: undefined, revision: -1 },
    transfer: (id) => tentativeTransfers.get(id) ?? pinned.get(id) ?? transfers.get(id),
  };
  const holdsAccount = (stream: string) =>
    tentativeAccounts.has(stream) || accounts.peek(stream) !== undefined;
  /** The transfers of a command the writer does not hold (none for a resolution: it is read first). */
  const unknownTransfers = (command: Command): string[] =>
    command.kind === 'transfer'
      ? command.requests.filter((request) => !view.transfer(request.id).state).map((r) => r.id)
      : [];

  async function readTransfer(id: string): Promise<{ record: TransferRecord | undefined; revision: number }> {
    let record: TransferRecord | undefined;
    let revision = -1;
    for (const recorded of await store.readStream(transferStream(id))) {
      record = evolveTransfer(record, toStoredEvent(recorded));
      revision = recorded.revision;
    }
    return { record, revision };
  }

  async function learnTransfer(id: string): Promise<Versioned<TransferRecord>> {
    const { record, revision } = await readTransfer(id);
    if (record) transfers.put(id, record, revision);
    else transfers.forget(id);
    return { state: record, revision };
  }

  /**
   * The trace of the request that asked for each transfer still being decided: its events carry it
   * in their metadata, so that what follows the store (the HTTP outcomes' announcements) continues
   * the caller's trace rather than starting one of its own.
   */
  const traces = new Map<string, string>();

  function submit(command: Command): Promise<CommandOutcome> {
    const traceparent = traceparentOf();
    const ids = !traceparent
      ? []
      : command.kind === 'transfer'
        ? command.requests.map((r) => r.id)
        : command.kind === 'resolve'
          ? [command.pendingId]
          : [];
    for (const id of ids) traces.set(id, traceparent!);
    return new Promise((resolve, reject) => {
      const forget = () => {
        for (const id of ids) traces.delete(id);
      };
      queue.push({
        command,
        arrival: (arrivals += 1),
        resolve: (outcome) => {
          forget();
          resolve(outcome);
        },
        reject: (error) => {
          forget();
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as the writer got it
          reject(error);
        },
        tries: 0,
        at: performance.now(),
      });
      arrived?.();
      if (!draining) {
        draining = true;
        // Callers in the same tick join the first batch.
        queueMicrotask(() => void drain());
      }
    });
  }

  async function drain(): Promise<void> {
    try {
      for (;;) {
        while (inFlight[0]?.settled) settle(inFlight.shift()!);
        if (inFlight.length === 0 && recovery) {
          await recover(recovery);
          recovery = undefined;
          continue;
        }
        const canLaunch = !recovery && inFlight.length < depth && !inFlight[inFlight.length - 1]?.barrier;
        if (canLaunch && queue.length > 0) {
          const batch = queue.splice(0, batchSize());
          // What launching cannot survive answers the whole batch (one prefetch refused ignores it).
          await launch(batch).catch((error: unknown) => {
            for (const queued of batch) queued.reject(error);
          });
          continue;
        }
        if (inFlight.length === 0) return;
        // Wait for the oldest batch; commands that arrive meanwhile start the next one if they may.
        await (canLaunch
          ? Promise.race([inFlight[0]!.wait, new Promise<void>((resolve) => (arrived = resolve))])
          : inFlight[0]!.wait);
        arrived = undefined;
      }
    } finally {
      draining = false;
    }
  }

  /**
   * How many queued commands the next batch takes. With nothing in flight and a long queue, a share
   * of it, so the batches after it start while it commits instead of all waiting for one append.
   */
  function batchSize(): number {
    const free = depth - inFlight.length;
    const share =
      inFlight.length === 0 && queue.length >= SPLIT_FROM ? Math.ceil(queue.length / free) : queue.length;
    return Math.min(maxBatch, share);
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
      if (command.kind !== 'resolve' || view.transfer(command.pendingId).state) continue;
      const key = transferStream(command.pendingId);
      if (!pendings.has(key)) pendings.set(key, learnTransfer(command.pendingId));
    }
    // A refusal of transfers the writer did not hold: were they recorded after all? (See `committed`.)
    pinned.clear();
    let lookups = false;
    for (const { command, lookup } of batch) {
      if (!lookup || command.kind !== 'transfer') continue;
      lookups = true;
      for (const { id } of command.requests) {
        const key = transferStream(id);
        if (!lookup.ids.includes(id)) {
          const held = transfers.get(id);
          if (held.state) pinned.set(id, held);
        } else if (!pendings.has(key)) {
          pendings.set(
            key,
            learnTransfer(id).then((read) => void (read.state && pinned.set(id, read))),
          );
        }
      }
    }
    await load(pendings);
    const live = lookups ? lookedUp(batch, failures) : batch;

    const needs = live.map(({ command }) => {
      if (command.kind === 'transfer') return accountStreamsOf(command.requests);
      const pending = view.transfer(command.pendingId).state;
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
      if (transferIdOf(stream) !== undefined || holdsAccount(stream) || opened.has(stream)) continue;
      opened.set(stream, accounts.load(stream));
    }
    await load(opened);
    if (failures.size === 0) return live;
    return live.filter((queued, index) => {
      const failed = needs[index]?.find((key) => failures.has(key));
      if (failed === undefined) return true;
      queued.reject(failures.get(failed));
      return false;
    });
  }

  /**
   * The refusals whose unknown transfers were just read. One whose transfers the store holds none of
   * is answered as it was decided (in arrival order, on the state it saw: nothing this writer decided
   * since can have recorded them, see `committed`); one with a transfer recorded after all stays in
   * the batch and is decided again, now a replay or an idempotency conflict.
   */
  function lookedUp(batch: Queued[], failures: Map<string, unknown>): Queued[] {
    return batch.filter((queued) => {
      const { lookup } = queued;
      if (!lookup) return true;
      queued.lookup = undefined;
      queued.lookedUp = true;
      const failed = lookup.ids.map(transferStream).find((key) => failures.has(key));
      if (failed !== undefined) {
        queued.reject(failures.get(failed));
        return false;
      }
      if (lookup.ids.some((id) => view.transfer(id).state)) return true;
      answer(queued, lookup.refused);
      return false;
    });
  }

  function answer(queued: Queued, outcome: CommandOutcome): void {
    queued.resolve(outcome);
    observer?.answered((performance.now() - queued.at) / 1000, outcome.ok);
  }

  /** Decides a batch on the state the batches in flight left, and sends its append on its way. */
  async function launch(batch: Queued[]): Promise<void> {
    const live = await prefetch(batch);
    if (live.length === 0) return;
    const decided = decideBatch(
      live.map((queued) => queued.command),
      view,
      clock(),
    );
    pinned.clear();
    const flight: InFlight = {
      seq: (seq += 1),
      live,
      decided,
      wait: Promise.resolve(),
      poisoned: false,
      barrier: decided.outcomes.includes(undefined) || decided.accounts.some((a) => a.state === undefined),
      startedFrom: new Map(),
      left: new Map(),
      deferred: [],
    };
    for (const { state, base, events } of decided.transfers) {
      if (!state) continue;
      const unsettled = base < 0;
      tentativeTransfers.set(state.id, { state, revision: base + events.length, seq: flight.seq, unsettled });
    }
    for (const { stream, state, base, events } of decided.accounts) {
      const tentative = { state, revision: base + events.length, seq: flight.seq, unsettled: base < 0 };
      flight.startedFrom.set(stream, tentativeAccounts.get(stream));
      flight.left.set(stream, tentative);
      tentativeAccounts.set(stream, tentative);
    }
    flight.wait = appendBatch(decided).then(
      (revisions) => void (flight.settled = { revisions }),
      (error: unknown) => void (flight.settled = { error }),
    );
    if (inFlight.length > 0) stats.overlapped += 1;
    inFlight.push(flight);
  }

  /** One append for the whole batch; the last revision of each stream, transfers first. */
  async function appendBatch(decided: DecidedBatch): Promise<number[]> {
    const streams = [...decided.transfers, ...decided.accounts];
    if (streams.length === 0) return [];
    const appends: StreamAppend[] = streams.map(({ stream, expected, events }) => {
      const traceparent = traces.size > 0 ? traces.get(transferIdOf(stream) ?? '') : undefined;
      return { stream, expected, events: events.map((event) => toEventToAppend(event, traceparent)) };
    });
    const result = await store.append(appends);
    await options.hooks?.afterAppend?.(decided.outcomes.length);
    return result.streams.map((s) => s.revision);
  }

  /** The oldest batch in flight has settled: keep what it wrote, answer or requeue its commands. */
  function settle(flight: InFlight): void {
    for (const [id, entry] of tentativeTransfers) if (entry.seq === flight.seq) tentativeTransfers.delete(id);
    for (const [stream, entry] of tentativeAccounts)
      if (entry.seq === flight.seq) tentativeAccounts.delete(stream);
    const { settled } = flight;
    if (!settled) throw new Error('settling a batch still in flight');
    const again = 'error' in settled ? failed(flight, settled.error) : committed(flight, settled.revisions);
    for (const deferred of flight.deferred) {
      const resumed = resume(deferred, 'error' in settled ? undefined : flight);
      if (resumed) again.push(resumed);
    }
    if (recovery) recovery.commands.push(...again);
    else requeue(again);
  }

  /** Answers what stands of a committed batch; returns the commands to decide again. */
  function committed(flight: InFlight, revisions: number[]): Queued[] {
    keepWritten(flight, revisions);
    const again: Queued[] = [];
    let lookups = 0;
    flight.live.forEach((queued, index) => {
      const outcome = flight.decided.outcomes[index];
      // After an earlier batch failed, a refusal or replay may rest on its writes: decide again.
      if (!outcome || (flight.poisoned && !appended(outcome))) {
        again.push(queued);
      } else if (!outcome.ok && !queued.lookedUp && unknownTransfers(queued.command).length > 0) {
        // Refused, but a transfer it names that the writer does not hold may have been recorded
        // (before a restart, elsewhere, or dropped from the cache): a refusal appends nothing, so the
        // store's `no_stream` never said so. Read them before answering (`prefetch`: cost only on
        // this path), or, when a later batch in flight creates one of them, wait for it (`resume`).
        const requeued = resume({ queued, refused: outcome, ids: unknownTransfers(queued.command) });
        if (requeued) {
          lookups += 1;
          again.push(requeued);
        }
      } else answer(queued, outcome);
    });
    // A refusal being looked up counts as this batch's: it is answered as decided here unless one of
    // its transfers turns out recorded (then its replay counts again, in the batch that decides it).
    const answered = flight.live.length - again.length + lookups;
    observer?.batch(answered);
    stats.batches += 1;
    stats.commands += answered;
    stats.largest = Math.max(stats.largest, answered);
    return again;
  }

  /**
   * Where a refusal naming unknown transfers goes next; returns the command when it is to be looked
   * up (first in the queue: the next batch reads them before it decides anything). `creator`: the
   * batch it waited for, committed (it appended those transfers as new streams, `no_stream`, so none
   * was recorded before it, nor before this refusal was decided) or, undefined, failed. While a
   * later batch in flight creates one of the transfers, the refusal waits for it: reading the store
   * meanwhile could find that batch's write and answer a replay of what came after it in arrival
   * order. With none left, the store is read only for what no batch of this writer created since,
   * so the answer stays the one of arrival order.
   */
  function resume({ queued, refused, ids }: Deferred, creator?: InFlight): Queued | undefined {
    const createdBy = (flight: InFlight, id: string) =>
      flight.decided.transfers.some(({ state, base }) => state?.id === id && base < 0);
    const left = creator ? ids.filter((id) => !createdBy(creator, id)) : ids;
    if (left.length === 0) {
      answer(queued, refused);
      return undefined;
    }
    const later = inFlight.findLast((flight) => left.some((id) => createdBy(flight, id)));
    if (later) {
      later.deferred.push({ queued, refused, ids: left });
      return undefined;
    }
    queued.lookup = { refused, ids: left };
    return queued;
  }

  /**
   * A batch wrote nothing. The later ones are poisoned, and no new batch starts until they settled
   * and the lost race's streams were read again. Returns the commands to decide again.
   */
  function failed(flight: InFlight, error: unknown): Queued[] {
    for (const later of inFlight) later.poisoned = true;
    recovery ??= { lostOn: [], commands: [], tries: 0 };
    // It may have failed only because an earlier batch did.
    if (flight.poisoned) return flight.live;
    if (!(error instanceof WrongExpectedRevisionError)) {
      for (const queued of flight.live) queued.reject(error);
      return [];
    }
    recovery.lostOn.push(error.stream);
    const again: Queued[] = [];
    for (const queued of flight.live) {
      queued.tries += 1;
      recovery.tries = Math.max(recovery.tries, queued.tries);
      if (queued.tries <= maxRetries) again.push(queued);
      else {
        queued.reject(
          new LedgerContentionError(
            `a batch of ${flight.live.length} command(s): still losing races after ${maxRetries} retries`,
            { cause: error },
          ),
        );
      }
    }
    return again;
  }

  /**
   * The caches take what a committed batch wrote, where its fold is known true: it started from a
   * true fold (the writer's own, or one an earlier batch confirmed) and its events directly follow
   * it (nobody else wrote in between, and no batch overtook it). Otherwise the writer keeps its
   * older fold, which is true at its own revision and which the next load catches up from.
   */
  function keepWritten({ decided, startedFrom, left }: InFlight, revisions: number[]): void {
    decided.transfers.forEach(({ state, base, events }, index) => {
      const revision = revisions[index] ?? -1;
      // Guarded by no_stream or its exact revision: nobody else wrote in between.
      if (state && revision === base + events.length) transfers.put(state.id, state, revision);
    });
    const offset = decided.transfers.length;
    decided.accounts.forEach(({ stream, state, base, events }, index) => {
      const revision = revisions[offset + index] ?? -1;
      const from = startedFrom.get(stream);
      const trueBase = from === undefined || from.confirmed === true;
      if (state && trueBase && revision === base + events.length) {
        accounts.put(stream, state, revision);
        left.get(stream)!.confirmed = true;
      } else if (!state) accounts.forget(stream);
    });
  }

  /**
   * After a failed batch, once nothing is in flight: catch up the streams it lost on (all unknown
   * transfers, for a transfer stream), back off on a contended account, and queue its commands and
   * the later batches' undecided ones first, in the order they came.
   */
  async function recover({ lostOn, commands, tries }: NonNullable<typeof recovery>): Promise<void> {
    try {
      for (const stream of new Set(lostOn)) await refresh(stream, commands);
    } catch (error) {
      for (const queued of commands) queued.reject(error);
      return;
    }
    if (lostOn.some((stream) => transferIdOf(stream) === undefined)) {
      await sleep(Math.random() * Math.min(50, 2 ** tries));
    }
    requeue(commands);
  }

  /**
   * Puts commands to decide again back in the queue, in arrival order with the rest: a later
   * batch's command never overtakes an earlier one waiting to be decided again (its refusal to be
   * looked up, say), which would decide them out of the order they came in.
   */
  function requeue(commands: Queued[]): void {
    if (commands.length === 0) return;
    queue.unshift(...commands);
    // Stable, and nearly sorted already: the commands never taken arrived after every requeued one.
    queue.sort((a, b) => a.arrival - b.arrival);
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
