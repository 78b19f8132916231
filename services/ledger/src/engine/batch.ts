import { type AccountState, evolveAccount } from '../domain/account-state.ts';
import { accountStream, parseAccountId, transferStream } from '../domain/accounts.ts';
import { decideTransfers } from '../domain/decide-transfers.ts';
import type { ResolutionDecision, StreamExpectation, StreamWrite } from '../domain/decision.ts';
import { LedgerInvariantError } from '../domain/errors.ts';
import type { StoredEvent } from '../domain/events.ts';
import { type TransferRecord, evolveTransfer, toTransfer } from '../domain/transfer-state.ts';
import type { ValidTransferRequest } from '../domain/transfers.ts';
import type { ExpectedRevision } from '../store/event-store.ts';
import type { ResolutionOutcome, TransferOutcome } from './types.ts';

/** A write command as the writer queues it: a (linked) transfer, or a pending transfer's resolution. */
export type Command =
  | { kind: 'transfer'; requests: readonly ValidTransferRequest[] }
  | {
      kind: 'resolve';
      pendingId: string;
      decide: (transfer: TransferRecord | undefined, now: Date) => ResolutionDecision;
    };

export type CommandOutcome = TransferOutcome | ResolutionOutcome;

/** A stream's folded state as of `revision` (-1 and no state: the stream does not exist). */
export interface Versioned<T> {
  state: T | undefined;
  revision: number;
  /**
   * Created by a batch still in flight: the store cannot check an expectation on it before that
   * batch commits, so a command that needs it is decided in a later batch.
   */
  unsettled?: boolean;
}

/** What the writer knows before the batch: every account a command touches, and transfers it holds. */
export interface BatchView {
  account(stream: string): Versioned<AccountState>;
  /** A transfer the writer does not know is taken as new; the store refuses it if it is not. */
  transfer(id: string): Versioned<TransferRecord>;
}

/** One stream's part of the batch: its events in command order and what the append expects. */
export interface BatchStream<T> {
  stream: string;
  expected: ExpectedRevision;
  /** The revision the batch started from (-1: not opened), and the state after all its events. */
  base: number;
  events: StoredEvent[];
  /** Undefined when the writer's fold turned out stale: the stream is read again on next use. */
  state: T | undefined;
}

export interface DecidedBatch {
  /** Undefined for a command that relied on a stream whose fold went stale: decide it again. */
  outcomes: (CommandOutcome | undefined)[];
  /** Transfer streams first, then account streams, so a transfer's event precedes its entries. */
  transfers: BatchStream<TransferRecord>[];
  accounts: BatchStream<AccountState>[];
}

interface Working<T> {
  stream: string;
  base: number;
  state: T | undefined;
  events: StoredEvent[];
  first: StreamExpectation | undefined;
  relied: boolean;
  /** The writer's fold of the stream no longer holds (see foldAccount): it is not kept. */
  unknown?: boolean;
}

/**
 * Decides a batch of commands in order, each against the state the earlier ones left, and merges
 * their writes into one write per stream. A refused command leaves nothing behind, so later ones
 * see the state as if it never came. Each stream's expected revision is the strongest any command
 * needed: `no_stream` when the batch creates it, the revision the batch started from when a command
 * relied on its state, `exists` otherwise. Pure: the writer appends the result in one call.
 */
export function decideBatch(commands: readonly Command[], view: BatchView, now: Date): DecidedBatch {
  const accounts = new Map<string, Working<AccountState>>();
  const transfers = new Map<string, Working<TransferRecord>>();

  const accountOf = (stream: string): Working<AccountState> => {
    let working = accounts.get(stream);
    if (!working) {
      const { state, revision, unsettled } = view.account(stream);
      working = { stream, base: revision, state, events: [], first: undefined, relied: false };
      if (unsettled) working.unknown = true;
      accounts.set(stream, working);
    }
    return working;
  };
  const transferOf = (id: string): Working<TransferRecord> => {
    let working = transfers.get(id);
    if (!working) {
      const { state, revision, unsettled } = view.transfer(id);
      working = {
        stream: transferStream(id),
        base: revision,
        state,
        events: [],
        first: undefined,
        relied: false,
        unknown: unsettled,
      };
      transfers.set(id, working);
    }
    return working;
  };

  const apply = (writes: readonly StreamWrite[]): void => {
    for (const write of writes) {
      const first = write.events[0];
      if (!first) continue;
      const isAccount = first.type === 'account-opened' || first.type === 'account-entry';
      if (isAccount) {
        const working = accountOf(write.stream);
        foldAccount(working, write);
        record(working, write);
      } else {
        const id = first.type === 'transfer-created' ? first.data.id : first.data.transfer_id;
        const working = transferOf(id);
        for (const event of write.events) working.state = evolveTransfer(working.state, event);
        record(working, write);
      }
    }
  };

  // Once a command must wait for a later batch, so do all after it: the batch keeps arrival order.
  let deferred = false;
  const outcomes = commands.map((command): CommandOutcome | undefined => {
    const outcome = deferred ? undefined : decide(command);
    deferred ||= outcome === undefined;
    return outcome;
  });

  function decide(command: Command): CommandOutcome | undefined {
    if (command.kind === 'transfer') {
      const existingTransfers = new Map<string, TransferRecord>();
      for (const request of command.requests) {
        const known = transferOf(request.id).state;
        if (known) existingTransfers.set(request.id, known);
      }
      const states = new Map<string, AccountState>();
      for (const stream of accountStreamsOf(command.requests)) {
        const working = accountOf(stream);
        // Its fold turned stale in this batch, or its creation is in flight: decided in a later batch.
        if (working.unknown) return undefined;
        if (working.state) states.set(stream, working.state);
      }
      const decision = decideTransfers(command.requests, { accounts: states, existingTransfers, now });
      if (decision.kind === 'rejected') return { ok: false, rejection: decision.rejection };
      if (decision.kind === 'replayed') {
        return { ok: true, transfers: decision.transfers.map(toTransfer), replayed: true };
      }
      apply(decision.writes);
      return { ok: true, transfers: decision.transfers.map(toTransfer), replayed: false };
    }
    const pending = transferOf(command.pendingId);
    if (pending.unknown) return undefined;
    const decision = command.decide(pending.state, now);
    if (decision.kind === 'rejected') return { ok: false, rejection: decision.rejection };
    if (decision.kind === 'replayed')
      return { ok: true, transfer: toTransfer(decision.transfer), replayed: true };
    apply(decision.writes);
    return { ok: true, transfer: toTransfer(decision.transfer), replayed: false };
  }

  return { outcomes, transfers: written(transfers), accounts: written(accounts) };
}

/**
 * Folds an account's new entries. An entry written at `exists` (a resolution's, or a credit's) may
 * not fold onto a state the writer holds from before another process's write (a release of a
 * pending amount that process already released): the state is then unknown, which nothing may rely
 * on. The append still goes ahead, and the store refuses it if the command's own stream was stale.
 */
function foldAccount(working: Working<AccountState>, write: StreamWrite): void {
  if (working.unknown) return;
  try {
    for (const event of write.events) working.state = evolveAccount(working.state, event);
  } catch (error) {
    if (!(error instanceof LedgerInvariantError) || write.expect !== 'exists') throw error;
    working.unknown = true;
  }
}

function record<T>(working: Working<T>, write: StreamWrite): void {
  working.first ??= write.expect;
  working.relied ||= write.expect === 'as_read';
  working.events.push(...write.events);
}

function written<T>(streams: Map<string, Working<T>>): BatchStream<T>[] {
  const result: BatchStream<T>[] = [];
  for (const working of streams.values()) {
    if (working.events.length === 0) continue;
    result.push({
      stream: working.stream,
      expected: expectedOf(working),
      base: working.base,
      events: working.events,
      state: working.unknown ? undefined : working.state,
    });
  }
  return result;
}

function expectedOf(working: Working<unknown>): ExpectedRevision {
  if (working.first === 'no_stream') return 'no_stream';
  if (working.relied) return working.base < 0 ? 'no_stream' : working.base;
  return 'exists';
}

/** The account streams of a command's transfers (ids outside the chart are refused by the domain). */
export function accountStreamsOf(requests: readonly ValidTransferRequest[]): string[] {
  const streams = new Set<string>();
  for (const request of requests) {
    for (const id of [request.debit_account, request.credit_account]) {
      if (parseAccountId(id)) streams.add(accountStream(id, request.currency));
    }
  }
  return [...streams];
}
