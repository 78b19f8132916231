import pg from 'pg';

// What a request may have changed, cheaply: the newest row of each service's outbox (every state
// change a service makes is announced through it, in the same transaction) and of the ledger's
// event log. A refused request must leave all of them where they were.

export type Snapshot = Record<string, string>;

export interface StateProbe {
  snapshot(): Promise<Snapshot>;
  /** Waits until two snapshots `quietMs` apart agree (consumers and jobs have caught up). */
  settle(quietMs?: number, timeoutMs?: number): Promise<Snapshot>;
  close(): Promise<void>;
}

/** Probes each database (name → connection URL); the ledger's also for its event log. */
export function stateProbe(databases: Record<string, string>): StateProbe {
  const pools = Object.entries(databases).map(([name, url]) => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    pool.on('error', () => undefined);
    return { name, pool };
  });
  // The ledger's event log, where there is one (asked once: a query naming a missing table fails).
  let logs: Promise<boolean[]> | undefined;
  const hasLog = () =>
    (logs ??= Promise.all(
      pools.map(async ({ pool }) => {
        const { rows } = await pool.query<{ log: string | null }>(
          `select to_regclass('es_events')::text as log`,
        );
        return rows[0]?.log != null;
      }),
    ));
  const snapshot = async (): Promise<Snapshot> => {
    const withLog = await hasLog();
    const entries = await Promise.all(
      pools.map(async ({ name, pool }, i) => {
        const { rows } = await pool.query<{ outbox: string; events?: string }>(
          withLog[i]
            ? `select (select coalesce(max(position), 0) from outbox)::text as outbox,
                      (select coalesce(max(position), 0) from es_events)::text as events`
            : `select (select coalesce(max(position), 0) from outbox)::text as outbox`,
        );
        const row = rows[0]!;
        const values: [string, string][] = [[`${name}.outbox`, row.outbox]];
        if (row.events !== undefined) values.push([`${name}.es_events`, row.events]);
        return values;
      }),
    );
    return Object.fromEntries(entries.flat());
  };
  return {
    snapshot,
    async settle(quietMs = 400, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last = await snapshot();
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, quietMs));
        const now = await snapshot();
        if (sameSnapshot(now, last) || Date.now() > deadline) return now;
        last = now;
      }
    },
    async close() {
      await Promise.all(pools.map(({ pool }) => pool.end()));
    },
  };
}

export function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}

/** What changed between two snapshots, e.g. `ledger.outbox 41→42`. */
export function changes(before: Snapshot, after: Snapshot): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter((key) => before[key] !== after[key])
    .map((key) => `${key} ${before[key]}→${after[key]}`);
}
