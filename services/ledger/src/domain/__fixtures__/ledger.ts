import { randomUUID } from 'node:crypto';
import { accept, type Decision, reject } from '@tessera/service-kit';
import { type AccountState, evolveAccount, newAccount } from '../account-state.ts';
import { accountIds, accountStream, parseAccountId, transferStream } from '../accounts.ts';
import { decideExpiry, decideResolution } from '../decide-resolution.ts';
import { decideTransfers, parseTransferRequests } from '../decide-transfers.ts';
import type { ResolutionDecision, StreamWrite, TransferDecision } from '../decision.ts';
import { refusalOf } from '../errors.ts';
import { type TransferRecord, evolveTransfer } from '../transfer-state.ts';
import type { PendingResolution, TransferRequest } from '../transfers.ts';

/** Fixed owners, so account ids in failures read the same on every run. */
export const ids = {
  company: '0c0c0c0c-0000-4000-8000-000000000001',
  campaign: '0ca0ca0c-0000-4000-8000-000000000002',
  user: '05e05e05-0000-4000-8000-000000000003',
  otherUser: '05e05e05-0000-4000-8000-000000000004',
};

export const accounts = {
  world: accountIds.world,
  revenue: accountIds.platformRevenue,
  promotions: accountIds.platformPromotions,
  quality: accountIds.platformQuality,
  company: accountIds.companyCredits(ids.company),
  campaign: accountIds.campaignBudget(ids.campaign),
  user: accountIds.userAvailable(ids.user),
  otherUser: accountIds.userAvailable(ids.otherUser),
};

/** A posted USD transfer world → user of 100 unless told otherwise. */
export function request(overrides: Partial<TransferRequest> = {}): TransferRequest {
  return {
    id: randomUUID(),
    debit_account: accounts.world,
    credit_account: accounts.user,
    amount: 100,
    currency: 'USD',
    code: 'topup',
    ...overrides,
  };
}

/**
 * The pure domain run against maps: decide, then fold the decided events into the states, checking
 * each write's expectation as a store would. What the engine does, without the store.
 */
export function createDomainLedger(start = new Date('2030-01-01T00:00:00.000Z')) {
  const accountStates = new Map<string, AccountState>();
  const transfers = new Map<string, TransferRecord>();
  let now = start;

  function apply(writes: readonly StreamWrite[]): void {
    for (const { stream, expect } of writes) {
      const exists = accountStates.has(stream) || transfers.has(stream);
      if (expect === 'no_stream' && exists) throw new Error(`${stream} exists, expected no_stream`);
      if (expect !== 'no_stream' && !exists) throw new Error(`${stream} does not exist, expected ${expect}`);
    }
    for (const { stream, events } of writes) {
      for (const event of events) {
        if (stream.startsWith('transfer-'))
          transfers.set(stream, evolveTransfer(transfers.get(stream), event));
        else accountStates.set(stream, evolveAccount(accountStates.get(stream), event));
      }
    }
  }

  return {
    get now() {
      return now;
    },
    advance(seconds: number) {
      now = new Date(now.getTime() + seconds * 1000);
    },
    transfer(raw: TransferRequest[]): TransferDecision {
      const parsed = parseTransferRequests(raw);
      if (!parsed.ok) return { kind: 'rejected', rejection: parsed.rejection };
      const existingTransfers = new Map<string, TransferRecord>();
      for (const { id } of parsed.requests) {
        const record = transfers.get(transferStream(id));
        if (record) existingTransfers.set(id, record);
      }
      const decision = decideTransfers(parsed.requests, { accounts: accountStates, existingTransfers, now });
      if (decision.kind === 'decided') apply(decision.writes);
      return decision;
    },
    resolve(resolution: PendingResolution): ResolutionDecision {
      const transfer = transfers.get(transferStream(resolution.pending_id));
      const decision = decideResolution(resolution, { transfer, now });
      if (decision.kind === 'decided') apply(decision.writes);
      return decision;
    },
    expire(pendingId: string): ResolutionDecision {
      const decision = decideExpiry(pendingId, { transfer: transfers.get(transferStream(pendingId)), now });
      if (decision.kind === 'decided') apply(decision.writes);
      return decision;
    },
    account(accountId: string, currency = 'USD'): AccountState | undefined {
      return accountStates.get(accountStream(accountId, currency));
    },
    transferRecord(id: string): TransferRecord | undefined {
      return transfers.get(transferStream(id));
    },
    accountStates: accountStates as ReadonlyMap<string, AccountState>,
  };
}

export type DomainLedger = ReturnType<typeof createDomainLedger>;

/** The four balances of an account (zeros when it was never opened). */
export function balancesOf(state: AccountState | undefined) {
  return {
    debits_posted: state?.debits_posted ?? 0,
    credits_posted: state?.credits_posted ?? 0,
    debits_pending: state?.debits_pending ?? 0,
    credits_pending: state?.credits_pending ?? 0,
  };
}

/** One USD account of the chart holding `credits` posted, `held` of it reserved by pending debits. */
export function holding(accountId: string, credits: number, held = 0): Map<string, AccountState> {
  const identity = parseAccountId(accountId);
  if (!identity) throw new Error(`${accountId} is not an account of the chart`);
  const state = { ...newAccount(identity, 'USD'), credits_posted: credits, debits_pending: held };
  return new Map([[accountStream(accountId, 'USD'), state]]);
}

/**
 * What the engine decides for `requests` against `accounts` (nothing recorded before), as the
 * kit's Decision: the transfers, or the refusal the rejection is (`refusalOf`). For `decider` specs.
 */
export function decideOrRefuse(
  accounts: ReadonlyMap<string, AccountState>,
  requests: TransferRequest[],
  now = new Date('2030-01-01T00:00:00.000Z'),
): Decision<TransferRecord[]> {
  const parsed = parseTransferRequests(requests);
  if (!parsed.ok) return reject(refusalOf(parsed.rejection));
  const decision = decideTransfers(parsed.requests, { accounts, existingTransfers: new Map(), now });
  if (decision.kind === 'rejected') return reject(refusalOf(decision.rejection));
  return accept(decision.transfers);
}
