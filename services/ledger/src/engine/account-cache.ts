import { type AccountState, evolveAccount } from '../domain/account-state.ts';
import { LedgerInvariantError } from '../domain/errors.ts';
import type { EventStore } from '../store/event-store.ts';
import { toStoredEvent } from './stored-events.ts';

/** An account's state as of a revision of its stream (-1 and undefined: the stream does not exist). */
export interface AccountSnapshot {
  state: AccountState | undefined;
  revision: number;
}

export interface AccountCache {
  /** The account's current state: the cached fold, caught up with what was appended since. */
  load(stream: string): Promise<AccountSnapshot>;
  /** The cached fold as it is, without reading; undefined when the account is not held. */
  peek(stream: string): AccountSnapshot | undefined;
  /** Records a fold the writer knows to be the stream's state at `revision`. */
  put(stream: string, state: AccountState, revision: number): void;
  /** Drops a fold the writer found stale; the next load reads the stream from its start. */
  forget(stream: string): void;
}

const PAGE = 1000;

/**
 * Folded account states kept in process and caught up from the cached revision on every load, so
 * a busy account (`world`) is folded from its first event once per process, not once per command.
 * The least recently used accounts are forgotten past `limit`.
 */
export function createAccountCache(store: EventStore, limit: number): AccountCache {
  const entries = new Map<string, { state: AccountState; revision: number }>();

  function remember(stream: string, state: AccountState, revision: number): void {
    const current = entries.get(stream);
    entries.delete(stream);
    // Concurrent loads may finish out of order: never replace a newer fold with an older one.
    entries.set(stream, current && current.revision > revision ? current : { state, revision });
    if (entries.size > limit) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
  }

  async function load(stream: string): Promise<AccountSnapshot> {
    const cached = entries.get(stream);
    let state = cached?.state;
    let revision = cached?.revision ?? -1;
    for (;;) {
      const events = await store.readStream(stream, { fromRevision: revision + 1, limit: PAGE });
      for (const recorded of events) {
        if (recorded.revision !== revision + 1) {
          throw new LedgerInvariantError(`${stream}: revision ${recorded.revision} read after ${revision}`);
        }
        state = evolveAccount(state, toStoredEvent(recorded));
        revision = recorded.revision;
      }
      if (events.length < PAGE) break;
    }
    if (state) remember(stream, state, revision);
    return { state, revision };
  }

  return {
    load,
    peek(stream) {
      const entry = entries.get(stream);
      return entry && { state: entry.state, revision: entry.revision };
    },
    put: remember,
    forget: (stream) => void entries.delete(stream),
  };
}
