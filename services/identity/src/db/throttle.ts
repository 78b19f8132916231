import type { Kysely } from 'kysely';
import type { ThrottleState } from '../domain/throttle.ts';
import type { IdentityDB } from './schema.ts';

export async function readThrottle(
  db: Kysely<IdentityDB>,
  keys: readonly string[],
): Promise<Map<string, ThrottleState>> {
  if (keys.length === 0) return new Map();
  const rows = await db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
  return new Map(rows.map((r) => [r.key, toState(r)]));
}

/**
 * Locks the key's row (creating it first) so concurrent failures count one by one. One statement:
 * the no-op update on conflict takes the row lock and returns the row as it stands.
 */
export async function lockThrottle(
  db: Kysely<IdentityDB>,
  key: string,
  now: Date,
): Promise<ThrottleState | undefined> {
  const row = await db
    .insertInto('login_throttle')
    .values({ key, failures: 0, window_started_at: now, locked_until: null, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ key: (eb) => eb.ref('excluded.key') }))
    .returningAll()
    .executeTakeFirstOrThrow();
  return row.failures > 0 ? toState(row) : undefined;
}

export async function writeThrottle(
  db: Kysely<IdentityDB>,
  key: string,
  state: ThrottleState,
  now: Date,
): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({
      failures: state.failures,
      window_started_at: state.windowStartedAt,
      locked_until: state.lockedUntil,
      updated_at: now,
    })
    .where('key', '=', key)
    .execute();
}

export async function clearThrottle(db: Kysely<IdentityDB>, key: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('key', '=', key).execute();
}

export async function pruneThrottle(db: Kysely<IdentityDB>, before: Date): Promise<void> {
  await db
    .deleteFrom('login_throttle')
    .where('updated_at', '<', before)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', before)]))
    .execute();
}

function toState(row: {
  failures: number;
  window_started_at: Date;
  locked_until: Date | null;
}): ThrottleState {
  return { failures: row.failures, windowStartedAt: row.window_started_at, lockedUntil: row.locked_until };
}
