import { buildEvent } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/service-kit';
import type { Kysely, Selectable } from 'kysely';
import type { UserStatus } from '../domain/sessions.ts';
import type { IdentityDB, Role, SessionsTable } from './schema.ts';

export type SessionRow = Selectable<SessionsTable>;

export async function insertSession(db: Kysely<IdentityDB>, session: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

export async function insertRefreshToken(
  db: Kysely<IdentityDB>,
  token: { token_hash: string; session_id: string; issued_at: Date; expires_at: Date },
): Promise<void> {
  await db
    .insertInto('refresh_tokens')
    .values({ ...token, rotated_at: null })
    .execute();
}

export interface PresentedRefreshToken {
  token_hash: string;
  expires_at: Date;
  rotated_at: Date | null;
  session_id: string;
  session_expires_at: Date;
  revoked_at: Date | null;
  user_id: string;
  role: Role;
  status: UserStatus;
}

/** The token with its session and user, rows locked: two refreshes of one token serialize. */
export async function lockRefreshToken(
  db: Kysely<IdentityDB>,
  tokenHash: string,
): Promise<PresentedRefreshToken | undefined> {
  return db
    .selectFrom('refresh_tokens as t')
    .innerJoin('sessions as s', 's.id', 't.session_id')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      't.token_hash',
      't.expires_at',
      't.rotated_at',
      't.session_id',
      's.expires_at as session_expires_at',
      's.revoked_at',
      'u.id as user_id',
      'u.role',
      'u.status',
    ])
    .where('t.token_hash', '=', tokenHash)
    .forUpdate(['t', 's'])
    .executeTakeFirst();
}

export async function markRotated(db: Kysely<IdentityDB>, tokenHash: string, now: Date): Promise<void> {
  await db
    .updateTable('refresh_tokens')
    .set({ rotated_at: now })
    .where('token_hash', '=', tokenHash)
    .execute();
}

export async function touchSession(db: Kysely<IdentityDB>, sessionId: string, now: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_refreshed_at: now }).where('id', '=', sessionId).execute();
}

/**
 * Revokes a session, or every open session of a user, and announces each one revoked
 * (`identity.principal.revoked.v1`, in the same transaction): every other service then refuses the
 * access tokens of those sessions. Returns the ids of the sessions this revoked.
 */
export async function revokeSession(
  db: Kysely<IdentityDB>,
  sessionId: string,
  reason: string,
  now: Date,
  accessTokenTtlS: number,
): Promise<string[]> {
  const rows = await db
    .updateTable('sessions')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .returning(['id', 'user_id'])
    .execute();
  return announceRevokedSessions(db, rows, reason, now, accessTokenTtlS);
}

export async function revokeUserSessions(
  db: Kysely<IdentityDB>,
  userId: string,
  reason: string,
  now: Date,
  accessTokenTtlS: number,
): Promise<string[]> {
  const rows = await db
    .updateTable('sessions')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning(['id', 'user_id'])
    .execute();
  return announceRevokedSessions(db, rows, reason, now, accessTokenTtlS);
}

async function announceRevokedSessions(
  db: Kysely<IdentityDB>,
  rows: { id: string; user_id: string }[],
  reason: string,
  now: Date,
  accessTokenTtlS: number,
): Promise<string[]> {
  if (rows.length === 0) return [];
  await appendToOutbox(
    db,
    rows.map((row) =>
      principalRevoked({ kind: 'session', id: row.id, ownerId: row.user_id }, reason, now, accessTokenTtlS),
    ),
  );
  return rows.map((row) => row.id);
}

/** Slack for clocks that disagree: a revocation is kept this much longer than its last token lives. */
const CLOCK_SKEW_S = 60;

export function principalRevoked(
  principal: { kind: 'session' | 'api_key'; id: string; ownerId: string },
  reason: string,
  now: Date,
  accessTokenTtlS: number,
) {
  return buildEvent(
    'identity.principal.revoked.v1',
    {
      kind: principal.kind,
      principal_id: principal.id,
      owner_id: principal.ownerId,
      reason,
      revoked_at: now.toISOString(),
      tokens_expire_by: new Date(now.getTime() + (accessTokenTtlS + CLOCK_SKEW_S) * 1000).toISOString(),
    },
    { subject: principal.id },
  );
}

export async function isSessionOpen(db: Kysely<IdentityDB>, sessionId: string, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('sessions')
    .select('id')
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}
