import { type EventStore, WrongExpectedRevisionError } from '../../store/event-store.ts';

/** The store, counting in `counter.conflicts` every append it refused at a stale expected revision. */
export function countingConflicts(store: EventStore, counter: { conflicts: number }): EventStore {
  return {
    ...store,
    async append(appends) {
      try {
        return await store.append(appends);
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) counter.conflicts += 1;
        throw error;
      }
    },
  };
}
