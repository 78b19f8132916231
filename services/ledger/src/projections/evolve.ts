import { type AccountKind, parseAccountId } from '../domain/accounts.ts';
import { type StoredEventData, storedEventSchemas } from '../domain/events.ts';
import type { RecordedEvent } from '../store/event-store.ts';
import type { StatementPhase, TransferStateColumn } from './schema.ts';

/**
 * How the projections change with each stored event, without I/O: the projector loads the rows a
 * batch touches into a ProjectionState, folds the batch into it, and writes back what changed.
 * Only transfer events are projected (`transfer-created`, `pending-*`); account entries are the
 * write side's and the auditor's, who can compare the two.
 */

export interface AccountRow {
  account_id: string;
  currency: string;
  kind: AccountKind;
  owner: string | null;
  debits_posted: number;
  credits_posted: number;
  debits_pending: number;
  credits_pending: number;
  line_count: number;
  updated_at: string;
}

export interface TransferRow {
  id: string;
  debit_account: string;
  credit_account: string;
  currency: string;
  amount: number;
  code: string;
  state: TransferStateColumn;
  expires_at: string | null;
  metadata: Record<string, string>;
  created_at: string;
  resolved_at: string | null;
}

export interface WalletRow {
  user_id: string;
  currency: string;
  available: number;
  held: number;
  total_earned: number;
  total_withdrawn: number;
  updated_at: string;
}

export interface CampaignRow {
  campaign_id: string;
  currency: string;
  company_id: string | null;
  funded: number;
  spent: number;
  returned: number;
  remaining: number;
  updated_at: string;
}

export interface LineRow {
  account_id: string;
  currency: string;
  seq: number;
  transfer_id: string;
  code: string;
  direction: 'debit' | 'credit';
  phase: StatementPhase;
  amount: number;
  counterparty: string;
  balance: number;
  available: number;
  metadata: Record<string, string>;
  at: string;
}

/** The rows a batch reads and writes, keyed as `accountKey` / `ownerKey` say; mutated in place. */
export interface ProjectionState {
  accounts: Map<string, AccountRow>;
  transfers: Map<string, TransferRow>;
  wallets: Map<string, WalletRow>;
  campaigns: Map<string, CampaignRow>;
}

/** What a batch changed: the keys of rows to upsert, and the statement lines to insert. */
export interface ProjectionChanges {
  accounts: Set<string>;
  transfers: Set<string>;
  wallets: Set<string>;
  campaigns: Set<string>;
  lines: LineRow[];
}

export class ProjectionInvariantError extends Error {
  override readonly name = 'ProjectionInvariantError';
}

export const accountKey = (accountId: string, currency: string) => `${accountId}@${currency}`;
export const ownerKey = (ownerId: string, currency: string) => `${ownerId}@${currency}`;

export function emptyState(): ProjectionState {
  return { accounts: new Map(), transfers: new Map(), wallets: new Map(), campaigns: new Map() };
}

export function emptyChanges(): ProjectionChanges {
  return { accounts: new Set(), transfers: new Set(), wallets: new Set(), campaigns: new Set(), lines: [] };
}

export type ProjectedEvent =
  | { type: 'transfer-created'; data: StoredEventData<'transfer-created'> }
  | {
      type: 'pending-posted' | 'pending-voided' | 'pending-expired';
      data: StoredEventData<'pending-posted'>;
    };

/** The projected view of a stored event, validated; undefined for events projections skip. */
export function projectedEvent(event: Pick<RecordedEvent, 'type' | 'data'>): ProjectedEvent | undefined {
  switch (event.type) {
    case 'transfer-created':
      return { type: event.type, data: storedEventSchemas['transfer-created'].parse(event.data) };
    case 'pending-posted':
    case 'pending-voided':
    case 'pending-expired':
      return { type: event.type, data: storedEventSchemas[event.type].parse(event.data) };
    default:
      return undefined;
  }
}

/** What must be loaded before a batch can be folded: the pending transfers it resolves. */
export function transfersToLoad(events: readonly ProjectedEvent[]): string[] {
  const created = new Set<string>();
  const wanted = new Set<string>();
  for (const event of events) {
    if (event.type === 'transfer-created') created.add(event.data.id);
    else if (!created.has(event.data.transfer_id)) wanted.add(event.data.transfer_id);
  }
  return [...wanted];
}

/** The accounts a batch touches, given the transfers it resolves (loaded beforehand). */
export function accountsToLoad(
  events: readonly ProjectedEvent[],
  transfers: ReadonlyMap<string, TransferRow>,
): { account_id: string; currency: string }[] {
  const out = new Map<string, { account_id: string; currency: string }>();
  const add = (account_id: string, currency: string) =>
    out.set(accountKey(account_id, currency), { account_id, currency });
  for (const event of events) {
    if (event.type === 'transfer-created') {
      add(event.data.debit_account, event.data.currency);
      add(event.data.credit_account, event.data.currency);
    } else {
      const transfer = transfers.get(event.data.transfer_id);
      if (transfer) {
        add(transfer.debit_account, transfer.currency);
        add(transfer.credit_account, transfer.currency);
      }
    }
  }
  return [...out.values()];
}

const resolvedPhase = {
  'pending-posted': 'posted',
  'pending-voided': 'voided',
  'pending-expired': 'expired',
} as const;

/** Folds one event into the state, recording what changed. */
export function evolve(state: ProjectionState, changes: ProjectionChanges, event: ProjectedEvent): void {
  if (event.type === 'transfer-created') {
    const data = event.data;
    if (state.transfers.has(data.id)) throw new ProjectionInvariantError(`transfer ${data.id} created twice`);
    const transfer: TransferRow = {
      id: data.id,
      debit_account: data.debit_account,
      credit_account: data.credit_account,
      currency: data.currency,
      amount: data.amount,
      code: data.code,
      state: data.pending ? 'pending' : 'posted',
      expires_at: data.expires_at,
      metadata: data.metadata,
      created_at: data.at,
      resolved_at: null,
    };
    state.transfers.set(transfer.id, transfer);
    changes.transfers.add(transfer.id);
    // A balancing debit that found nothing to move is recorded, but changes no balance.
    if (transfer.amount === 0) return;
    const { amount } = transfer;
    const [phase, debit, credit]: [StatementPhase, Deltas, Deltas] = data.pending
      ? ['pending', { debits_pending: amount }, { credits_pending: amount }]
      : ['posted', { debits_posted: amount }, { credits_posted: amount }];
    move(state, changes, transfer, 'debit', debit, phase, amount, data.at);
    move(state, changes, transfer, 'credit', credit, phase, amount, data.at);
    return;
  }

  const { transfer_id, amount, at } = event.data;
  const transfer = state.transfers.get(transfer_id);
  if (!transfer) throw new ProjectionInvariantError(`${event.type} of unknown transfer ${transfer_id}`);
  if (transfer.state !== 'pending') {
    throw new ProjectionInvariantError(
      `${event.type} of transfer ${transfer_id}, which is ${transfer.state}`,
    );
  }
  const phase = resolvedPhase[event.type];
  transfer.state = phase;
  transfer.resolved_at = at;
  changes.transfers.add(transfer_id);
  if (transfer.amount === 0) return;
  const reserved = transfer.amount;
  const posted = phase === 'posted' ? amount : 0;
  const lineAmount = phase === 'posted' ? amount : reserved;
  move(
    state,
    changes,
    transfer,
    'debit',
    { debits_pending: -reserved, debits_posted: posted },
    phase,
    lineAmount,
    at,
  );
  move(
    state,
    changes,
    transfer,
    'credit',
    { credits_pending: -reserved, credits_posted: posted },
    phase,
    lineAmount,
    at,
  );
}

type Deltas = Partial<
  Pick<AccountRow, 'debits_posted' | 'credits_posted' | 'debits_pending' | 'credits_pending'>
>;

function move(
  state: ProjectionState,
  changes: ProjectionChanges,
  transfer: TransferRow,
  direction: 'debit' | 'credit',
  deltas: Deltas,
  phase: StatementPhase,
  amount: number,
  at: string,
): void {
  const accountId = direction === 'debit' ? transfer.debit_account : transfer.credit_account;
  const counterparty = direction === 'debit' ? transfer.credit_account : transfer.debit_account;
  const account = accountRow(state, accountId, transfer.currency, at);
  account.debits_posted += deltas.debits_posted ?? 0;
  account.credits_posted += deltas.credits_posted ?? 0;
  account.debits_pending += deltas.debits_pending ?? 0;
  account.credits_pending += deltas.credits_pending ?? 0;
  for (const field of ['debits_posted', 'credits_posted', 'debits_pending', 'credits_pending'] as const) {
    if (!Number.isSafeInteger(account[field]) || account[field] < 0) {
      throw new ProjectionInvariantError(
        `transfer ${transfer.id} leaves ${field} of ${accountId}@${transfer.currency} at ${account[field]}`,
      );
    }
  }
  account.line_count += 1;
  account.updated_at = at;
  const key = accountKey(accountId, transfer.currency);
  changes.accounts.add(key);

  const balance = account.credits_posted - account.debits_posted;
  changes.lines.push({
    account_id: accountId,
    currency: transfer.currency,
    seq: account.line_count,
    transfer_id: transfer.id,
    code: transfer.code,
    direction,
    phase,
    amount,
    counterparty,
    balance,
    available: balance - account.debits_pending,
    metadata: transfer.metadata,
    at,
  });

  const postedAmount = phase === 'posted' ? amount : 0;
  if (account.kind === 'user_available' && account.owner) {
    const wallet = walletRow(state, account.owner, transfer.currency, at);
    if (direction === 'credit') wallet.total_earned += postedAmount;
    else if (transfer.code === 'withdrawal') wallet.total_withdrawn += postedAmount;
    wallet.available = balance - account.debits_pending;
    wallet.held = account.debits_pending;
    wallet.updated_at = at;
    changes.wallets.add(ownerKey(account.owner, transfer.currency));
  }
  if (account.kind === 'campaign_budget' && account.owner) {
    const campaign = campaignRow(state, account.owner, transfer.currency, at);
    if (direction === 'credit') campaign.funded += postedAmount;
    else if (transfer.code === 'refund') campaign.returned += postedAmount;
    else campaign.spent += postedAmount;
    campaign.company_id ??= transfer.metadata.company_id ?? null;
    campaign.remaining = balance - account.debits_pending;
    campaign.updated_at = at;
    changes.campaigns.add(ownerKey(account.owner, transfer.currency));
  }
}

function accountRow(state: ProjectionState, accountId: string, currency: string, at: string): AccountRow {
  const key = accountKey(accountId, currency);
  const existing = state.accounts.get(key);
  if (existing) return existing;
  const identity = parseAccountId(accountId);
  if (!identity) throw new ProjectionInvariantError(`${accountId} is not an account of the chart`);
  const row: AccountRow = {
    account_id: accountId,
    currency,
    kind: identity.kind,
    owner: identity.owner,
    debits_posted: 0,
    credits_posted: 0,
    debits_pending: 0,
    credits_pending: 0,
    line_count: 0,
    updated_at: at,
  };
  state.accounts.set(key, row);
  return row;
}

function walletRow(state: ProjectionState, userId: string, currency: string, at: string): WalletRow {
  const key = ownerKey(userId, currency);
  const existing = state.wallets.get(key);
  if (existing) return existing;
  const row: WalletRow = {
    user_id: userId,
    currency,
    available: 0,
    held: 0,
    total_earned: 0,
    total_withdrawn: 0,
    updated_at: at,
  };
  state.wallets.set(key, row);
  return row;
}

function campaignRow(state: ProjectionState, campaignId: string, currency: string, at: string): CampaignRow {
  const key = ownerKey(campaignId, currency);
  const existing = state.campaigns.get(key);
  if (existing) return existing;
  const row: CampaignRow = {
    campaign_id: campaignId,
    currency,
    company_id: null,
    funded: 0,
    spent: 0,
    returned: 0,
    remaining: 0,
    updated_at: at,
  };
  state.campaigns.set(key, row);
  return row;
}
