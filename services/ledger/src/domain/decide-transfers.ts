import {
  type AccountState,
  type Balances,
  availableToDebit,
  addBalances,
  newAccount,
  zeroBalances,
} from './account-state.ts';
import { type AccountIdentity, accountStream, parseAccountId, transferStream } from './accounts.ts';
import {
  type StreamExpectation,
  type StreamWrite,
  type TransferDecision,
  chainRejection,
} from './decision.ts';
import { InvalidRequestError, type Rejection, type RejectionCode } from './errors.ts';
import type { StoredEvent } from './events.ts';
import { requestHash } from './request-hash.ts';
import { type TransferRecord, evolveTransfer } from './transfer-state.ts';
import { type TransferRequest, type ValidTransferRequest, transferRequestSchema } from './transfers.ts';

const MAX = Number.MAX_SAFE_INTEGER;

export type ParsedRequests =
  { ok: true; requests: ValidTransferRequest[] } | { ok: false; rejection: Rejection };

/**
 * Validates a command of one or several linked transfers. An amount that is not a non-negative
 * safe integer is a refusal (`INVALID_AMOUNT`); anything else the schema refuses, an empty command,
 * or one id twice in a command is a caller bug and throws InvalidRequestError.
 */
export function parseTransferRequests(raw: readonly TransferRequest[]): ParsedRequests {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new InvalidRequestError('a transfer command needs at least one transfer');
  }
  const requests: ValidTransferRequest[] = [];
  let badAmount: number | undefined;
  raw.forEach((item, index) => {
    const parsed = transferRequestSchema.safeParse(item);
    if (parsed.success) {
      requests.push(parsed.data);
      return;
    }
    const onlyAmount = parsed.error.issues.every(
      (issue) => issue.path.length === 1 && issue.path[0] === 'amount',
    );
    if (!onlyAmount) {
      const issues = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`,
      );
      throw new InvalidRequestError(
        `transfer ${index + 1} of ${raw.length} is not valid: ${issues.join('; ')}`,
      );
    }
    badAmount ??= index;
    requests.push(transferRequestSchema.parse({ ...item, amount: 0 }));
  });
  const ids = requests.map((request) => request.id);
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
  if (duplicate !== undefined)
    throw new InvalidRequestError(`transfer ${duplicate} appears twice in one command`);
  if (badAmount !== undefined) {
    const amount: unknown = (raw[badAmount] as { amount?: unknown } | undefined)?.amount;
    const detail = `amount ${String(amount)} is not a non-negative integer of minor units up to ${MAX}`;
    return { ok: false, rejection: chainRejection(ids, badAmount, 'INVALID_AMOUNT', detail) };
  }
  return { ok: true, requests };
}

export type IdempotencyCheck =
  | { kind: 'new' }
  | { kind: 'replayed'; transfers: TransferRecord[] }
  | { kind: 'rejected'; rejection: Rejection };

/**
 * Tells a new command from a retry. Replayed only when every transfer was recorded with the same
 * request hash and as the same linked chain (same ids, same order); new only when none was
 * recorded; anything in between is an IDEMPOTENCY_CONFLICT on the first transfer that differs.
 */
export function checkIdempotency(
  requests: readonly ValidTransferRequest[],
  existing: ReadonlyMap<string, TransferRecord>,
): IdempotencyCheck {
  const ids = requests.map((request) => request.id);
  const recorded = ids.map((id) => existing.get(id));
  if (recorded.every((record) => record === undefined)) return { kind: 'new' };
  const conflict = (index: number, detail: string): IdempotencyCheck => ({
    kind: 'rejected',
    rejection: chainRejection(ids, index, 'IDEMPOTENCY_CONFLICT', detail),
  });
  const transfers: TransferRecord[] = [];
  for (const [index, request] of requests.entries()) {
    const record = recorded[index];
    if (!record) {
      const other = recorded.findIndex((r) => r !== undefined);
      return conflict(other, `transfer ${ids[other]} was already recorded, but not in this linked chain`);
    }
    if (record.request_hash !== requestHash(request)) {
      return conflict(index, `transfer ${request.id} was already recorded with a different request`);
    }
    if (record.linked_ids.length !== ids.length || record.linked_ids.some((id, i) => id !== ids[i])) {
      return conflict(index, `transfer ${request.id} was already recorded in a different linked chain`);
    }
    transfers.push(record);
  }
  return { kind: 'replayed', transfers };
}

export interface TransferContext {
  /** The current state of every account stream the command touches; absent when not opened yet. */
  accounts: ReadonlyMap<string, AccountState>;
  /** Every transfer of the command already recorded, by id. */
  existingTransfers: ReadonlyMap<string, TransferRecord>;
  now: Date;
}

interface Touched {
  events: StoredEvent[];
  opened: boolean;
  /** The decision depends on this account's balance (a constraint was checked on it). */
  relied: boolean;
}

/**
 * Decides a command of one transfer or of several linked ones (TigerBeetle semantics). The
 * transfers are decided in order against the running state, so a later one sees the earlier ones'
 * effects; the first refusal refuses the whole chain and nothing is written.
 *
 * A transfer of amount 0 (only a balancing debit can be one) is recorded in its own stream so that
 * a retry replays it, but writes no account entry and opens no account: it changes no balance.
 */
export function decideTransfers(
  requests: readonly ValidTransferRequest[],
  context: TransferContext,
): TransferDecision {
  const idempotency = checkIdempotency(requests, context.existingTransfers);
  if (idempotency.kind !== 'new') return idempotency;

  const ids = requests.map((request) => request.id);
  const at = context.now.toISOString();
  const running = new Map(context.accounts);
  const touched = new Map<string, Touched>();
  const records: TransferRecord[] = [];
  const transferWrites: StreamWrite[] = [];
  const currency = requests[0]?.currency;
  const touch = (stream: string, relied: boolean): Touched => {
    const entry = touched.get(stream) ?? { events: [], opened: false, relied: false };
    entry.relied ||= relied;
    touched.set(stream, entry);
    return entry;
  };

  for (const [index, request] of requests.entries()) {
    const refuse = (code: RejectionCode, detail: string): TransferDecision => ({
      kind: 'rejected',
      rejection: chainRejection(ids, index, code, detail),
    });
    const shape = checkShape(request, currency);
    if (!shape.ok) return refuse(shape.code, shape.detail);
    const { debitIdentity, creditIdentity } = shape;

    const debitStream = accountStream(request.debit_account, request.currency);
    const creditStream = accountStream(request.credit_account, request.currency);
    const debit = running.get(debitStream) ?? newAccount(debitIdentity, request.currency);
    const credit = running.get(creditStream) ?? newAccount(creditIdentity, request.currency);
    const debitConstrained = debit.flags.debits_must_not_exceed_credits;
    const creditConstrained = credit.flags.credits_must_not_exceed_debits;

    const amount =
      request.balancing_debit && debitConstrained
        ? Math.min(request.amount, availableToDebit(debit))
        : request.amount;
    const pending = request.pending !== undefined;
    const debitDeltas: Balances = pending
      ? { ...zeroBalances, debits_pending: amount }
      : { ...zeroBalances, debits_posted: amount };
    const creditDeltas: Balances = pending
      ? { ...zeroBalances, credits_pending: amount }
      : { ...zeroBalances, credits_posted: amount };
    const nextDebit = addBalances(debit, debitDeltas);
    const nextCredit = addBalances(credit, creditDeltas);

    const overflowing = [nextDebit, nextCredit].find(overflows);
    if (overflowing) {
      return refuse('OVERFLOW', `${amount} would take a balance of ${overflowing.account_id} past ${MAX}`);
    }
    if (debitConstrained && nextDebit.debits_posted + nextDebit.debits_pending > nextDebit.credits_posted) {
      return refuse(
        'INSUFFICIENT_FUNDS',
        `${request.debit_account} can give ${availableToDebit(debit)} ${request.currency}, not ${amount}`,
      );
    }
    if (
      creditConstrained &&
      nextCredit.credits_posted + nextCredit.credits_pending > nextCredit.debits_posted
    ) {
      const room = Math.max(0, credit.debits_posted - credit.credits_posted - credit.credits_pending);
      return refuse(
        'EXCEEDS_DEBITS',
        `${request.credit_account} can take ${room} ${request.currency}, not ${amount}`,
      );
    }

    const expiresAt =
      pending && request.pending?.timeout_seconds
        ? new Date(context.now.getTime() + request.pending.timeout_seconds * 1000).toISOString()
        : null;
    const created: StoredEvent = {
      type: 'transfer-created',
      data: {
        id: request.id,
        debit_account: request.debit_account,
        credit_account: request.credit_account,
        amount,
        requested_amount: request.amount,
        currency: request.currency,
        code: request.code,
        metadata: { ...request.metadata },
        pending,
        expires_at: expiresAt,
        balancing_debit: request.balancing_debit ?? false,
        linked_ids: [...ids],
        request_hash: requestHash(request),
        at,
      },
    };
    transferWrites.push({ stream: transferStream(request.id), expect: 'no_stream', events: [created] });
    // The returned record is what the stream will fold to, by construction.
    records.push(evolveTransfer(undefined, created));

    // A balancing debit of a constrained account depends on its balance even when it moves 0.
    const debitTouch = touch(debitStream, debitConstrained);
    const creditTouch = touch(creditStream, creditConstrained);
    if (amount === 0) continue;
    const sides = [
      [debitStream, debit, nextDebit, debitDeltas, debitTouch],
      [creditStream, credit, nextCredit, creditDeltas, creditTouch],
    ] as const;
    for (const [stream, before, after, deltas, entry] of sides) {
      if (!running.has(stream)) {
        entry.opened = true;
        entry.events.push({
          type: 'account-opened',
          data: {
            account_id: before.account_id,
            currency: before.currency,
            kind: before.kind,
            owner: before.owner,
            flags: { ...before.flags },
            at,
          },
        });
      }
      entry.events.push({
        type: 'account-entry',
        data: {
          account_id: before.account_id,
          currency: before.currency,
          transfer_id: request.id,
          cause: 'transfer-created',
          ...deltas,
          at,
        },
      });
      running.set(stream, after);
    }
  }

  const accountWrites: StreamWrite[] = [];
  for (const [stream, entry] of touched) {
    if (entry.events.length === 0) continue;
    const expect: StreamExpectation = entry.opened ? 'no_stream' : entry.relied ? 'as_read' : 'exists';
    accountWrites.push({ stream, expect, events: entry.events });
  }
  return { kind: 'decided', writes: [...transferWrites, ...accountWrites], transfers: records };
}

/** Checks what does not depend on balances: the accounts, the currency of the chain, the amount. */
function checkShape(
  request: ValidTransferRequest,
  chainCurrency: string | undefined,
):
  | { ok: true; debitIdentity: AccountIdentity; creditIdentity: AccountIdentity }
  | { ok: false; code: RejectionCode; detail: string } {
  const debitIdentity = parseAccountId(request.debit_account);
  const creditIdentity = parseAccountId(request.credit_account);
  const refuse = (code: RejectionCode, detail: string) => ({ ok: false as const, code, detail });
  if (!debitIdentity)
    return refuse('INVALID_ACCOUNT', `${request.debit_account} is not an account of the chart`);
  if (!creditIdentity)
    return refuse('INVALID_ACCOUNT', `${request.credit_account} is not an account of the chart`);
  if (request.debit_account === request.credit_account) {
    return refuse('SAME_ACCOUNT', `${request.debit_account} cannot be both debited and credited`);
  }
  if (request.currency !== chainCurrency) {
    return refuse(
      'CURRENCY_MISMATCH',
      `a linked chain moves one currency: ${request.currency} after ${chainCurrency}`,
    );
  }
  if (request.amount === 0 && !request.balancing_debit) {
    return refuse('INVALID_AMOUNT', 'amount must be positive (zero only with balancing_debit)');
  }
  return { ok: true, debitIdentity, creditIdentity };
}

function overflows(state: Balances): boolean {
  return (
    state.debits_posted > MAX ||
    state.credits_posted > MAX ||
    state.debits_pending > MAX ||
    state.credits_pending > MAX ||
    state.debits_posted > MAX - state.debits_pending ||
    state.credits_posted > MAX - state.credits_pending
  );
}
