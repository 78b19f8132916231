import {
  type AccountFlags,
  type AccountKind,
  accountStream,
  flagsFor,
  parseAccountId,
  transferStream,
} from '../domain/accounts.ts';
import type { StoredEventData } from '../domain/events.ts';
import type { ChainedEvent } from './chain.ts';
import { Findings, type Report, formatCount, plural } from './report.ts';
import { checkStored } from './stored-validator.ts';
import { TransferIndex, TransferState, type TransferStateCode } from './transfer-index.ts';

/**
 * The auditor's replay of the ledger, written apart from the engine so that it checks the engine
 * rather than repeats it. Every balance is computed twice: by folding the `account-entry` deltas
 * the engine recorded, and by replaying the transfer events with TigerBeetle's rules. Both must
 * agree, every transfer event must be matched by exactly the entries it implies, double entry must
 * hold per currency, and no constrained account may ever have been overdrawn.
 */

export const balanceFields = [
  'debits_posted',
  'credits_posted',
  'debits_pending',
  'credits_pending',
] as const;
export type BalanceField = (typeof balanceFields)[number];
export type Balances = Record<BalanceField, bigint>;

export function zeroBalances(): Balances {
  return { debits_posted: 0n, credits_posted: 0n, debits_pending: 0n, credits_pending: 0n };
}

export interface OpenedAccount {
  account_id: string;
  currency: string;
  kind: AccountKind;
  owner: string | null;
  flags: AccountFlags;
}

export interface AccountSnapshot {
  /** Undefined when entries or transfers name an account that was never opened. */
  account: OpenedAccount | undefined;
  balances: Balances;
}

type Cause = 'transfer-created' | 'pending-posted' | 'pending-voided' | 'pending-expired';
type TransferStateName = 'posted' | 'pending' | 'voided' | 'expired';

const stateNames: Record<TransferStateCode, TransferStateName | undefined> = {
  [TransferState.none]: undefined,
  [TransferState.pending]: 'pending',
  [TransferState.posted]: 'posted',
  [TransferState.voided]: 'voided',
  [TransferState.expired]: 'expired',
};
const resolvedState = {
  'pending-posted': TransferState.posted,
  'pending-voided': TransferState.voided,
  'pending-expired': TransferState.expired,
} as const;

/** What a transfer event needs to know about its transfer: kept only while the transfer is pending. */
interface TransferInfo {
  id: string;
  debit: AccountRecord;
  credit: AccountRecord;
  amount: bigint;
  expires_at: string | null;
}

const TRANSFER_STREAM_PREFIX = 'transfer-';

/**
 * One account's objects, found by its id and currency without building its key for every event.
 * The objects are the ones kept under `key` in the keyed maps, so two ids that spell the same key
 * share them as they would share the maps' entries.
 */
interface AccountRecord {
  key: string;
  entries: Balances | undefined;
  transfers: Balances | undefined;
  peak: Peak | undefined;
}

interface Effect {
  seq: number;
  deltas: Balances;
}

/** How far past its constraint an account ever went, with the first seq where it was worst. */
interface Peak {
  debitExcess: bigint;
  debitSeq: number;
  creditExcess: bigint;
  creditSeq: number;
}

export function accountKey(accountId: string, currency: string): string {
  return `${accountId}@${currency}`;
}

function deltasOf(entry: StoredEventData<'account-entry'>): Balances {
  return {
    debits_posted: BigInt(entry.debits_posted),
    credits_posted: BigInt(entry.credits_posted),
    debits_pending: BigInt(entry.debits_pending),
    credits_pending: BigInt(entry.credits_pending),
  };
}

// The four fields spelt out rather than looped over by name: these run for every entry and every
// transfer event, and a keyed loop costs more than the arithmetic.
function addInto(target: Balances, deltas: Balances): void {
  target.debits_posted += deltas.debits_posted;
  target.credits_posted += deltas.credits_posted;
  target.debits_pending += deltas.debits_pending;
  target.credits_pending += deltas.credits_pending;
}

function sameBalances(a: Balances, b: Balances): boolean {
  return (
    a.debits_posted === b.debits_posted &&
    a.credits_posted === b.credits_posted &&
    a.debits_pending === b.debits_pending &&
    a.credits_pending === b.credits_pending
  );
}

export function formatBalances(b: Balances): string {
  return balanceFields.map((field) => `${field}=${b[field]}`).join(' ');
}

/** The deltas a transfer event implies for its debit and its credit account. */
function transferEffects(
  cause: Cause,
  transfer: { amount: bigint },
  pending: boolean,
): { debit: Balances; credit: Balances } {
  const a = transfer.amount;
  const debit = zeroBalances();
  const credit = zeroBalances();
  if (cause === 'transfer-created') {
    if (pending) {
      debit.debits_pending = a;
      credit.credits_pending = a;
    } else {
      debit.debits_posted = a;
      credit.credits_posted = a;
    }
  } else {
    debit.debits_pending = -a;
    credit.credits_pending = -a;
    if (cause === 'pending-posted') {
      debit.debits_posted = a;
      credit.credits_posted = a;
    }
  }
  return { debit, credit };
}

/**
 * Memory is bounded by the accounts (their opening, both balances and the worst excess over their
 * constraint), the open pending transfers, and the entries waiting for their transfer event or the
 * reverse (in a sound log, those of one append); finished transfers only keep a compact entry in a
 * TransferIndex (state and stream revision, about 50 bytes each).
 */
export class LedgerReplay {
  readonly accounts = new Map<string, OpenedAccount>();
  readonly byEntries = new Map<string, Balances>();
  readonly byTransfers = new Map<string, Balances>();
  /** Every transfer met: its state, and the last revision of its stream. */
  private readonly index = new TransferIndex();
  private readonly pending = new Map<string, TransferInfo>();
  /** Revisions of the streams other than `transfer-*` (the accounts', in a sound log). */
  private readonly streams = new Map<string, number>();
  /** `transfer-*` streams, whose revisions the index keeps. */
  private transferStreams = 0;
  private created = 0;
  private readonly stateCounts = new Map<TransferStateName, number>();
  /** Effects implied by transfer events whose entry has not been seen yet, and the reverse. */
  private readonly awaitingEntry = new Map<string, Effect>();
  private readonly awaitingTransfer = new Map<string, Effect>();
  private readonly peaks = new Map<string, Peak>();
  /** currency -> account id -> record. */
  private readonly book = new Map<string, Map<string, AccountRecord>>();
  private readonly typeCounts = new Map<string, number>();
  events = 0;
  lastSeq = 0;
  private current: ChainedEvent | undefined;
  private readonly at = (): string => {
    const event = this.current!;
    return `seq ${event.seq} (${event.type} ${event.id})`;
  };

  readonly findings = {
    wellFormed: new Findings(),
    revisions: new Findings(),
    placement: new Findings(),
    accounts: new Findings(),
    transfers: new Findings(),
    entries: new Findings(),
  };

  apply(event: ChainedEvent): void {
    this.events += 1;
    this.lastSeq = event.seq;
    this.typeCounts.set(event.type, (this.typeCounts.get(event.type) ?? 0) + 1);
    // Built only when a finding needs it: most events have none. One function for every event (not
    // a closure per event): it describes the event being applied.
    this.current = event;
    const { at } = this;

    const last = this.raiseRevision(event.stream, event.revision);
    if (event.revision !== last + 1) {
      this.findings.revisions.add(
        `${at()}: stream ${event.stream} revision ${event.revision} follows ${last}`,
      );
    }

    const stored = checkStored(event.type, event.data);
    if (typeof stored === 'string') {
      this.findings.wellFormed.add(`${at()}: ${stored}`);
      return;
    }
    const expectedStream =
      stored.type === 'account-opened' || stored.type === 'account-entry'
        ? accountStream(stored.data.account_id, stored.data.currency)
        : transferStream(stored.type === 'transfer-created' ? stored.data.id : stored.data.transfer_id);
    if (event.stream !== expectedStream) {
      this.findings.placement.add(`${at()}: recorded in ${event.stream}, belongs in ${expectedStream}`);
    }

    switch (stored.type) {
      case 'account-opened':
        return this.open(at, stored.data);
      case 'account-entry':
        return this.entry(event.seq, at, stored.data);
      case 'transfer-created':
        return this.createdTransfer(event.seq, at, stored.data);
      default:
        return this.resolved(event.seq, at, stored.type, stored.data);
    }
  }

  /** Moves a stream to `revision` (or keeps its higher one) and returns its last revision before. */
  private raiseRevision(stream: string, revision: number): number {
    if (stream.startsWith(TRANSFER_STREAM_PREFIX)) {
      const previous = this.index.raiseRevision(stream.slice(TRANSFER_STREAM_PREFIX.length), revision);
      if (previous === undefined) this.transferStreams += 1;
      return previous ?? -1;
    }
    const previous = this.streams.get(stream) ?? -1;
    this.streams.set(stream, Math.max(previous, revision));
    return previous;
  }

  private countState(state: TransferStateName, by: number): void {
    this.stateCounts.set(state, (this.stateCounts.get(state) ?? 0) + by);
  }

  private open(at: () => string, data: StoredEventData<'account-opened'>): void {
    const key = accountKey(data.account_id, data.currency);
    if (this.accounts.has(key)) {
      this.findings.accounts.add(`${at()}: account ${key} opened again`);
      return;
    }
    const { account_id, currency, kind, owner } = data;
    // The two flags alone, as the schema names them (the payload is not a stripped copy).
    const flags = {
      debits_must_not_exceed_credits: data.flags.debits_must_not_exceed_credits,
      credits_must_not_exceed_debits: data.flags.credits_must_not_exceed_debits,
    };
    this.accounts.set(key, { account_id, currency, kind, owner, flags });
    const identity = parseAccountId(account_id);
    const chartFlags = identity && flagsFor(identity.kind);
    if (!identity || identity.kind !== kind || identity.owner !== owner) {
      this.findings.accounts.add(
        `${at()}: account ${key} opened as ${kind} of ${owner ?? 'nobody'}, not per the chart`,
      );
    } else if (
      chartFlags?.debits_must_not_exceed_credits !== flags.debits_must_not_exceed_credits ||
      chartFlags.credits_must_not_exceed_debits !== flags.credits_must_not_exceed_debits
    ) {
      this.findings.accounts.add(
        `${at()}: account ${key} opened with flags ${JSON.stringify(flags)}, not the chart's`,
      );
    }
  }

  private record(accountId: string, currency: string): AccountRecord {
    let byId = this.book.get(currency);
    if (!byId) {
      byId = new Map();
      this.book.set(currency, byId);
    }
    let record = byId.get(accountId);
    if (!record) {
      record = {
        key: accountKey(accountId, currency),
        entries: undefined,
        transfers: undefined,
        peak: undefined,
      };
      byId.set(accountId, record);
    }
    return record;
  }

  private entry(seq: number, at: () => string, data: StoredEventData<'account-entry'>): void {
    const record = this.record(data.account_id, data.currency);
    const account = record.key;
    const deltas = deltasOf(data);
    addInto((record.entries ??= this.balances(this.byEntries, account)), deltas);
    const key = `${data.transfer_id}|${data.cause}|${account}`;
    const implied = this.awaitingEntry.get(key);
    if (implied) {
      this.awaitingEntry.delete(key);
      this.compareEffect(at, key, implied.deltas, deltas);
    } else if (this.awaitingTransfer.has(key)) {
      this.findings.entries.add(
        `${at()}: second entry for ${data.cause} of transfer ${data.transfer_id} on ${account}`,
      );
    } else {
      this.awaitingTransfer.set(key, { seq, deltas });
    }
  }

  private createdTransfer(seq: number, at: () => string, data: StoredEventData<'transfer-created'>): void {
    if (this.index.state(data.id) !== TransferState.none) {
      this.findings.transfers.add(`${at()}: transfer ${data.id} created again`);
      return;
    }
    if (data.debit_account === data.credit_account) {
      this.findings.transfers.add(`${at()}: transfer ${data.id} debits and credits the same account`);
    }
    if (
      data.amount > data.requested_amount ||
      (!data.balancing_debit && data.amount !== data.requested_amount)
    ) {
      this.findings.transfers.add(
        `${at()}: transfer ${data.id} moved ${data.amount} of a requested ${data.requested_amount}`,
      );
    }
    const transfer: TransferInfo = {
      id: data.id,
      debit: this.record(data.debit_account, data.currency),
      credit: this.record(data.credit_account, data.currency),
      amount: BigInt(data.amount),
      expires_at: data.expires_at,
    };
    if (!data.pending && data.expires_at !== null) {
      this.findings.transfers.add(`${at()}: transfer ${data.id} is not pending but has an expiry`);
    }
    this.created += 1;
    if (data.pending) {
      this.pending.set(data.id, transfer);
      this.index.setState(data.id, TransferState.pending);
      this.countState('pending', 1);
    } else {
      this.index.setState(data.id, TransferState.posted);
      this.countState('posted', 1);
    }
    this.effect(seq, at, 'transfer-created', transfer, data.pending);
  }

  private resolved(
    seq: number,
    at: () => string,
    cause: Exclude<Cause, 'transfer-created'>,
    data: StoredEventData<'pending-posted'>,
  ): void {
    const transfer = this.pending.get(data.transfer_id);
    if (!transfer) {
      const state = stateNames[this.index.state(data.transfer_id) as TransferStateCode];
      this.findings.transfers.add(
        state === undefined
          ? `${at()}: ${cause} of transfer ${data.transfer_id}, which was never created`
          : `${at()}: ${cause} of transfer ${data.transfer_id}, which is ${state}`,
      );
      return;
    }
    if (BigInt(data.amount) !== transfer.amount) {
      this.findings.transfers.add(
        `${at()}: ${cause} of transfer ${transfer.id} for ${data.amount}, but ${transfer.amount} is pending`,
      );
    }
    if (cause === 'pending-expired') {
      if (transfer.expires_at === null) {
        this.findings.transfers.add(`${at()}: transfer ${transfer.id} expired but has no expiry`);
      } else if (Date.parse(data.at) < Date.parse(transfer.expires_at)) {
        this.findings.transfers.add(
          `${at()}: transfer ${transfer.id} expired at ${data.at}, before ${transfer.expires_at}`,
        );
      }
    }
    const state = resolvedState[cause];
    this.pending.delete(transfer.id);
    this.index.setState(transfer.id, state);
    this.countState('pending', -1);
    this.countState(stateNames[state]!, 1);
    this.effect(seq, at, cause, transfer, true);
  }

  /**
   * Applies a transfer event to the transfer-side balances and expects its two entries. A transfer
   * of 0 (a balancing debit that found nothing to move) changes no balance and has no entries.
   */
  private effect(
    seq: number,
    at: () => string,
    cause: Cause,
    transfer: TransferInfo,
    pending: boolean,
  ): void {
    if (transfer.amount === 0n) return;
    const { debit, credit } = transferEffects(cause, transfer, pending);
    this.expectEntry(seq, at, cause, transfer.id, transfer.debit, debit);
    this.expectEntry(seq, at, cause, transfer.id, transfer.credit, credit);
  }

  private expectEntry(
    seq: number,
    at: () => string,
    cause: Cause,
    transferId: string,
    record: AccountRecord,
    deltas: Balances,
  ): void {
    const account = record.key;
    const balances = (record.transfers ??= this.balances(this.byTransfers, account));
    addInto(balances, deltas);
    this.trackPeak(seq, record, balances);
    const key = `${transferId}|${cause}|${account}`;
    const recorded = this.awaitingTransfer.get(key);
    if (recorded) {
      this.awaitingTransfer.delete(key);
      this.compareEffect(at, key, deltas, recorded.deltas);
    } else {
      this.awaitingEntry.set(key, { seq, deltas });
    }
  }

  private compareEffect(at: () => string, key: string, implied: Balances, recorded: Balances): void {
    if (sameBalances(implied, recorded)) return;
    const [transferId, cause, account] = key.split('|');
    this.findings.entries.add(
      `${at()}: entry for ${cause} of transfer ${transferId} on ${account} records ${formatBalances(recorded)}, ` +
        `the transfer implies ${formatBalances(implied)}`,
    );
  }

  private trackPeak(seq: number, record: AccountRecord, b: Balances): void {
    const debitExcess = b.debits_posted + b.debits_pending - b.credits_posted;
    const creditExcess = b.credits_posted + b.credits_pending - b.debits_posted;
    const peak = (record.peak ??= this.peaks.get(record.key));
    if (!peak) {
      record.peak = { debitExcess, debitSeq: seq, creditExcess, creditSeq: seq };
      this.peaks.set(record.key, record.peak);
      return;
    }
    if (debitExcess > peak.debitExcess) {
      peak.debitExcess = debitExcess;
      peak.debitSeq = seq;
    }
    if (creditExcess > peak.creditExcess) {
      peak.creditExcess = creditExcess;
      peak.creditSeq = seq;
    }
  }

  private balances(map: Map<string, Balances>, account: string): Balances {
    let balances = map.get(account);
    if (!balances) {
      balances = zeroBalances();
      map.set(account, balances);
    }
    return balances;
  }

  /** The entry-folded balances of every account so far (copies). */
  snapshot(): Map<string, AccountSnapshot> {
    const keys = new Set([...this.accounts.keys(), ...this.byEntries.keys()]);
    return new Map(
      [...keys].map((key) => [
        key,
        { account: this.accounts.get(key), balances: { ...(this.byEntries.get(key) ?? zeroBalances()) } },
      ]),
    );
  }

  /** Adds the replay's sections to `report`: call once, after the last event. */
  report(report: Report): void {
    const { findings } = this;
    const types = [...this.typeCounts].map(([type, n]) => `${type} ${formatCount(n)}`).join(', ');
    report
      .section('Events')
      .check(
        findings.wellFormed,
        `${plural(this.events, 'event')} well-formed (${types || 'none'})`,
        'malformed events',
      );

    report
      .section('Streams')
      .check(
        findings.revisions,
        `revisions dense in ${plural(this.streams.size + this.transferStreams, 'stream')}`,
        'revision gaps',
      )
      .check(findings.placement, 'every event in the stream it belongs to', 'events in the wrong stream');

    for (const key of new Set([...this.byEntries.keys(), ...this.byTransfers.keys()])) {
      if (!this.accounts.has(key))
        findings.accounts.add(`account ${key} has entries or transfers but was never opened`);
    }
    report
      .section('Accounts')
      .check(
        findings.accounts,
        `${plural(this.accounts.size, 'account')} opened once, as the chart says`,
        'account problems',
      );

    const stateText = (['posted', 'pending', 'voided', 'expired'] as const)
      .filter((state) => (this.stateCounts.get(state) ?? 0) > 0)
      .map((state) => `${formatCount(this.stateCounts.get(state) ?? 0)} ${state}`)
      .join(', ');
    report
      .section('Transfers')
      .check(
        findings.transfers,
        `${plural(this.created, 'transfer')} valid (${stateText || 'none'})`,
        'invalid transfers',
      );

    this.reportEntries(report);
    this.reportBalances(report);
  }

  private reportEntries(report: Report): void {
    const { entries } = this.findings;
    for (const [key, effect] of this.awaitingEntry) {
      const [transferId, cause, account] = key.split('|');
      entries.add(`seq ${effect.seq}: ${cause} of transfer ${transferId} has no entry on ${account}`);
    }
    for (const [key, effect] of this.awaitingTransfer) {
      const [transferId, cause, account] = key.split('|');
      entries.add(
        `seq ${effect.seq}: entry on ${account} for ${cause} of transfer ${transferId}, which has no such event`,
      );
    }
    const count = this.typeCounts.get('account-entry') ?? 0;
    report
      .section('Entries')
      .check(
        entries,
        `${plural(count, 'entry', 'entries')} match their transfer events one to one`,
        'entry mismatches',
      );
  }

  private reportBalances(report: Report): void {
    const disagree = new Findings();
    const negative = new Findings();
    const accounts = new Set([...this.byEntries.keys(), ...this.byTransfers.keys()]);
    for (const key of accounts) {
      const entries = this.byEntries.get(key) ?? zeroBalances();
      const transfers = this.byTransfers.get(key) ?? zeroBalances();
      if (!sameBalances(entries, transfers)) {
        disagree.add(
          `${key}: entries give ${formatBalances(entries)}, transfers give ${formatBalances(transfers)}`,
        );
      }
      for (const field of balanceFields)
        if (entries[field] < 0n) negative.add(`${key}: ${field} is ${entries[field]}`);
    }
    report
      .section('Balances')
      .check(
        disagree,
        `entries and transfer replay agree on ${plural(accounts.size, 'account')}`,
        'balances disagree',
      )
      .check(negative, 'no balance field below zero', 'negative balance fields');

    const section = report.section('Double entry');
    const totals = new Map<string, Balances & { accounts: number }>();
    for (const [key, b] of this.byEntries) {
      const currency = this.accounts.get(key)?.currency ?? key.slice(key.lastIndexOf('@') + 1);
      const total = totals.get(currency) ?? { ...zeroBalances(), accounts: 0 };
      addInto(total, b);
      total.accounts += 1;
      totals.set(currency, total);
    }
    if (totals.size === 0) section.info('no balances yet');
    for (const [currency, t] of [...totals].sort(([a], [b]) => a.localeCompare(b))) {
      const net = t.credits_posted - t.debits_posted;
      const lines: [boolean, string][] = [
        [
          t.debits_posted === t.credits_posted,
          `posted debits ${t.debits_posted} = credits ${t.credits_posted}`,
        ],
        [
          t.debits_pending === t.credits_pending,
          `pending debits ${t.debits_pending} = credits ${t.credits_pending}`,
        ],
        [net === 0n, `signed sum of posted balances over ${plural(t.accounts, 'account')} is ${net}`],
      ];
      for (const [ok, text] of lines)
        section.add(ok ? 'ok' : 'fail', `${currency}: ${ok ? text : text.replace(' = ', ' ≠ ')}`);
    }

    const overdrawn = new Findings();
    let constrained = 0;
    for (const [key, account] of this.accounts) {
      const { flags } = account;
      if (!flags.debits_must_not_exceed_credits && !flags.credits_must_not_exceed_debits) continue;
      constrained += 1;
      const final = this.byEntries.get(key) ?? zeroBalances();
      const peak = this.peaks.get(key);
      if (flags.debits_must_not_exceed_credits) {
        const now = final.debits_posted + final.debits_pending - final.credits_posted;
        if (peak && peak.debitExcess > 0n) {
          overdrawn.add(`${key}: debits exceeded credits by ${peak.debitExcess} after seq ${peak.debitSeq}`);
        } else if (now > 0n) overdrawn.add(`${key}: debits exceed credits by ${now}`);
      }
      if (flags.credits_must_not_exceed_debits) {
        const now = final.credits_posted + final.credits_pending - final.debits_posted;
        if (peak && peak.creditExcess > 0n) {
          overdrawn.add(
            `${key}: credits exceeded debits by ${peak.creditExcess} after seq ${peak.creditSeq}`,
          );
        } else if (now > 0n) overdrawn.add(`${key}: credits exceed debits by ${now}`);
      }
    }
    report
      .section('Constraints')
      .check(
        overdrawn,
        `no constrained account overdrawn, after any transfer event (${plural(constrained, 'account')})`,
        'constraints broken',
      );
  }
}
