import { setTimeout as sleep } from 'node:timers/promises';
import type { AccountState } from '../domain/account-state.ts';
import { accountStream, flagsFor, parseAccountId, transferStream } from '../domain/accounts.ts';
import { decideExpiry, decideResolution } from '../domain/decide-resolution.ts';
import { checkIdempotency, decideTransfers, parseTransferRequests } from '../domain/decide-transfers.ts';
import type { ResolutionDecision, StreamWrite } from '../domain/decision.ts';
import { InvalidRequestError, LedgerContentionError } from '../domain/errors.ts';
import { type TransferRecord, evolveTransfer, toTransfer } from '../domain/transfer-state.ts';
import type { PendingResolution, ValidTransferRequest } from '../domain/transfers.ts';
import {
  type EventStore,
  type ExpectedRevision,
  type StreamAppend,
  WrongExpectedRevisionError,
} from '../store/event-store.ts';
import { createAccountCache } from './account-cache.ts';
import { createKeyedLock } from './keyed-lock.ts';
import { toEventToAppend, toStoredEvent } from './stored-events.ts';
import type { LedgerEngine, ResolutionOutcome, TransferOutcome } from './types.ts';

export interface LedgerOptions {
  clock?: () => Date;
  /** How many times a command is retried after losing an optimistic-concurrency race (default 100). */
  maxRetries?: number;
  /** How many folded account states the process keeps (default 100 000). */
  maxCachedAccounts?: number;
}

/**
 * The ledger's write side on an event store. Each command reads what it depends on, is decided by
 * the pure domain, and is written in ONE atomic append across every stream it touches:
 * - each new transfer's stream at `no_stream`, so one id is recorded once (a racing duplicate loses
 *   the append, re-reads, and replays or conflicts);
 * - each account whose constraint the command checked at the exact revision it read, so no
 *   concurrent write can slip between the check and the write;
 * - each account opened on first use at `no_stream`;
 * - every other account at `exists`: its entries stay valid whatever else is appended (a credit, or
 *   a pending amount posted or released, never breaks a constraint), so `world` and other
 *   unconstrained accounts are no serialization point.
 * A lost race re-reads and decides again, up to `maxRetries` times with a little jitter.
 */
export function createLedger(store: EventStore, options: LedgerOptions = {}): LedgerEngine {
  const clock = options.clock ?? (() => new Date());
  const maxRetries = options.maxRetries ?? 100;
  const accounts = createAccountCache(store, options.maxCachedAccounts ?? 100_000);
  const locks = createKeyedLock();

  async function readTransfer(id: string): Promise<{ record: TransferRecord | undefined; revision: number }> {
    let record: TransferRecord | undefined;
    let revision = -1;
    for (const recorded of await store.readStream(transferStream(id))) {
      record = evolveTransfer(record, toStoredEvent(recorded));
      revision = recorded.revision;
    }
    return { record, revision };
  }

  async function retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries += 1) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (tries >= maxRetries) {
          throw new LedgerContentionError(`${what}: still losing races after ${tries} retries`, {
            cause: error,
          });
        }
        await sleep(Math.random() * Math.min(50, 2 ** tries));
      }
    }
  }

  function toAppends(writes: readonly StreamWrite[], revisions: ReadonlyMap<string, number>): StreamAppend[] {
    return writes.map(({ stream, expect, events }) => ({
      stream,
      expected: expect === 'as_read' ? revisionRead(stream, revisions) : expect,
      events: events.map(toEventToAppend),
    }));
  }

  async function transfer(raw: Parameters<LedgerEngine['transfer']>[0]): Promise<TransferOutcome> {
    const parsed = parseTransferRequests(raw);
    if (!parsed.ok) return { ok: false, rejection: parsed.rejection };
    const { requests } = parsed;
    return locks.run(lockKeys(requests), () =>
      retrying(`transfer ${requests[0]?.id}`, async (): Promise<TransferOutcome> => {
        const existing = new Map<string, TransferRecord>();
        for (const { record } of await Promise.all(requests.map((request) => readTransfer(request.id)))) {
          if (record) existing.set(record.id, record);
        }
        const check = checkIdempotency(requests, existing);
        if (check.kind === 'replayed')
          return { ok: true, transfers: check.transfers.map(toTransfer), replayed: true };
        if (check.kind === 'rejected') return { ok: false, rejection: check.rejection };

        const streams = accountStreamsOf(requests);
        const snapshots = await Promise.all(streams.map((stream) => accounts.load(stream)));
        const states = new Map<string, AccountState>();
        const revisions = new Map<string, number>();
        streams.forEach((stream, index) => {
          const snapshot = snapshots[index];
          if (!snapshot) return;
          revisions.set(stream, snapshot.revision);
          if (snapshot.state) states.set(stream, snapshot.state);
        });
        const decision = decideTransfers(requests, {
          accounts: states,
          existingTransfers: existing,
          now: clock(),
        });
        if (decision.kind === 'rejected') return { ok: false, rejection: decision.rejection };
        if (decision.kind === 'replayed') {
          return { ok: true, transfers: decision.transfers.map(toTransfer), replayed: true };
        }
        await store.append(toAppends(decision.writes, revisions));
        return { ok: true, transfers: decision.transfers.map(toTransfer), replayed: false };
      }),
    );
  }

  function resolveWith(
    pendingId: string,
    decide: (transfer: TransferRecord | undefined) => ResolutionDecision,
  ): Promise<ResolutionOutcome> {
    if (typeof pendingId !== 'string' || pendingId.length === 0) {
      throw new InvalidRequestError('a pending transfer id is required');
    }
    const stream = transferStream(pendingId);
    return locks.run([stream], () =>
      retrying(`resolve ${pendingId}`, async (): Promise<ResolutionOutcome> => {
        const { record, revision } = await readTransfer(pendingId);
        const decision = decide(record);
        if (decision.kind === 'rejected') return { ok: false, rejection: decision.rejection };
        if (decision.kind === 'replayed')
          return { ok: true, transfer: toTransfer(decision.transfer), replayed: true };
        await store.append(toAppends(decision.writes, new Map([[stream, revision]])));
        return { ok: true, transfer: toTransfer(decision.transfer), replayed: false };
      }),
    );
  }

  return {
    transfer,
    async resolve(resolution: PendingResolution) {
      if (resolution.action !== 'post' && resolution.action !== 'void') {
        throw new InvalidRequestError(
          `a pending transfer is posted or voided, not "${String(resolution.action)}"`,
        );
      }
      return resolveWith(resolution.pending_id, (transfer) =>
        decideResolution(resolution, { transfer, now: clock() }),
      );
    },
    async expire(pendingId: string, now?: Date) {
      return resolveWith(pendingId, (transfer) => decideExpiry(pendingId, { transfer, now: now ?? clock() }));
    },
    async getTransfer(id: string) {
      const { record } = await readTransfer(id);
      return record && toTransfer(record);
    },
    async getAccount(accountId: string, currency: string) {
      const { state, revision } = await accounts.load(accountStream(accountId, currency));
      return state && { ...state, flags: { ...state.flags }, revision };
    },
  };
}

function revisionRead(stream: string, revisions: ReadonlyMap<string, number>): ExpectedRevision {
  const revision = revisions.get(stream);
  if (revision === undefined) throw new Error(`the decision relied on ${stream}, which was not read`);
  return revision < 0 ? 'no_stream' : revision;
}

/** The account streams of a command's transfers (ids outside the chart are refused by the domain). */
function accountStreamsOf(requests: readonly ValidTransferRequest[]): string[] {
  const streams = new Set<string>();
  for (const request of requests) {
    for (const id of [request.debit_account, request.credit_account]) {
      if (parseAccountId(id)) streams.add(accountStream(id, request.currency));
    }
  }
  return [...streams];
}

/**
 * What a command holds in process: the transfers it creates (identical retries queue instead of
 * racing) and every account whose constraint it may check (concurrent debits of one account queue
 * instead of thrashing through optimistic-concurrency retries).
 */
function lockKeys(requests: readonly ValidTransferRequest[]): string[] {
  const keys = requests.map((request) => transferStream(request.id));
  for (const request of requests) {
    const debit = parseAccountId(request.debit_account);
    const credit = parseAccountId(request.credit_account);
    if (debit && flagsFor(debit.kind).debits_must_not_exceed_credits) {
      keys.push(accountStream(request.debit_account, request.currency));
    }
    if (credit && flagsFor(credit.kind).credits_must_not_exceed_debits) {
      keys.push(accountStream(request.credit_account, request.currency));
    }
  }
  return keys;
}
