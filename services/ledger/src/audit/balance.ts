import type { ChainedEvent } from './chain.ts';
import {
  accountKey,
  balanceFields,
  type Balances,
  LedgerReplay,
  type OpenedAccount,
  zeroBalances,
} from './replay.ts';

/** A position in the chain (`seq`, inclusive) or a moment (events recorded at or before it). */
export type PointInTime = { seq: number } | { time: Date };

export function parsePointInTime(text: string): PointInTime | undefined {
  if (/^\d+$/.test(text)) {
    const seq = Number(text);
    return Number.isSafeInteger(seq) ? { seq } : undefined;
  }
  // A date alone or a date-time with an explicit offset: never a local time guessed at.
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text)) return undefined;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : { time };
}

export interface AccountBalanceAt {
  account_id: string;
  currency: string;
  account: OpenedAccount | undefined;
  balances: Balances;
  /** The same balances computed by replaying transfers; they must agree. */
  agrees: boolean;
}

export interface BalanceAt {
  at: PointInTime;
  /** The last event included (by seq), if any. */
  asOf: { seq: number; id: string; recorded_at: string } | undefined;
  included: number;
  accounts: AccountBalanceAt[];
}

/**
 * Replays `events` (in seq order) up to a point and returns one account's balances, per currency
 * unless `currency` is given. By seq the replay stops after that seq; by time it takes every event
 * recorded at or before it (the global order is by commit, so times are not quite monotonic).
 */
export async function balanceAt(
  events: AsyncIterable<ChainedEvent> | Iterable<ChainedEvent>,
  query: { account: string; currency?: string | undefined; at: PointInTime },
): Promise<BalanceAt> {
  const replay = new LedgerReplay();
  const { at } = query;
  const until = 'time' in at ? at.time.getTime() : undefined;
  let asOf: BalanceAt['asOf'];
  let included = 0;
  for await (const event of events) {
    if ('seq' in at && event.seq > at.seq) break;
    if (until !== undefined && Date.parse(event.recorded_at) > until) continue;
    replay.apply(event);
    included += 1;
    asOf = { seq: event.seq, id: event.id, recorded_at: event.recorded_at };
  }
  const keys = new Set<string>();
  for (const [key, account] of replay.accounts) {
    if (account.account_id === query.account) keys.add(key);
  }
  for (const key of [...replay.byEntries.keys(), ...replay.byTransfers.keys()]) {
    if (key.startsWith(`${query.account}@`)) keys.add(key);
  }
  const accounts: AccountBalanceAt[] = [];
  for (const key of [...keys].sort()) {
    const currency = key.slice(query.account.length + 1);
    if (query.currency !== undefined && currency !== query.currency) continue;
    const balances = replay.byEntries.get(accountKey(query.account, currency)) ?? zeroBalances();
    const replayed = replay.byTransfers.get(key) ?? zeroBalances();
    accounts.push({
      account_id: query.account,
      currency,
      account: replay.accounts.get(key),
      balances,
      agrees: balanceFields.every((field) => balances[field] === replayed[field]),
    });
  }
  return { at, asOf, included, accounts };
}
