import { randomUUID } from 'node:crypto';
import type { Role } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { IdentityDB } from '../db/schema.ts';
import {
  insertRefreshToken,
  insertSession,
  lockRefreshToken,
  markRotated,
  revokeSession,
  touchSession,
} from '../db/sessions.ts';
import { randomSecret, sha256Hex } from '../domain/secrets.ts';
import { decideRefresh, refreshTokenExpiry } from '../domain/sessions.ts';
import type { Identity } from '../runtime.ts';

export interface SessionTokens {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** A new session (refresh family) for a user who just proved who they are. */
export async function openSession(
  identity: Identity,
  trx: Kysely<IdentityDB>,
  user: { id: string; role: Role },
): Promise<SessionTokens> {
  const now = identity.clock();
  const sessionId = randomUUID();
  const expiresAt = new Date(now.getTime() + identity.config.SESSION_MAX_AGE_S * 1000);
  await insertSession(trx, {
    id: sessionId,
    user_id: user.id,
    created_at: now,
    last_refreshed_at: now,
    expires_at: expiresAt,
    revoked_at: null,
    revoked_reason: null,
  });
  return issueTokens(identity, trx, {
    sessionId,
    sessionExpiresAt: expiresAt,
    userId: user.id,
    role: user.role,
  });
}

async function issueTokens(
  identity: Identity,
  trx: Kysely<IdentityDB>,
  s: { sessionId: string; sessionExpiresAt: Date; userId: string; role: Role },
): Promise<SessionTokens> {
  const now = identity.clock();
  const refreshToken = randomSecret(32);
  await insertRefreshToken(trx, {
    token_hash: sha256Hex(refreshToken),
    session_id: s.sessionId,
    issued_at: now,
    expires_at: refreshTokenExpiry(now, s.sessionExpiresAt, identity.config.REFRESH_TOKEN_TTL_S),
  });
  const access = await identity.keys.sign({ sub: s.userId, role: s.role, sid: s.sessionId });
  return {
    access_token: access.token,
    refresh_token: refreshToken,
    token_type: 'Bearer',
    expires_in: access.expiresIn,
  };
}

/**
 * Rotates a refresh token, as `decideRefresh` says. Revocations (reuse, an account no longer
 * active) commit before the refusal is answered.
 */
export async function refreshSession(identity: Identity, refreshToken: string): Promise<SessionTokens> {
  const outcome = await identity.db.transaction().execute(async (trx) => {
    const presented = await lockRefreshToken(trx, sha256Hex(refreshToken));
    const now = identity.clock();
    const decision = decideRefresh(
      presented && {
        token: { expiresAt: presented.expires_at, rotatedAt: presented.rotated_at },
        session: { revokedAt: presented.revoked_at, expiresAt: presented.session_expires_at },
        userStatus: presented.status,
      },
      { now, graceS: identity.config.REFRESH_GRACE_S },
    );
    if (!decision.rotate) {
      if (presented && decision.revokeFamily) {
        const ttlS = identity.config.ACCESS_TOKEN_TTL_S;
        await revokeSession(trx, presented.session_id, decision.revokeFamily, now, ttlS);
      }
      return decision;
    }
    if (!presented) throw new Error('decideRefresh rotated a token that was not found');
    if (!decision.grace) await markRotated(trx, presented.token_hash, now);
    await touchSession(trx, presented.session_id, now);
    return issueTokens(identity, trx, {
      sessionId: presented.session_id,
      sessionExpiresAt: presented.session_expires_at,
      userId: presented.user_id,
      role: presented.role,
    });
  });
  if ('refusal' in outcome) {
    if (outcome.revokeFamily === 'refresh_reused') {
      identity.logger.warn('refresh token reused: its session is revoked');
    }
    throw outcome.refusal;
  }
  return outcome;
}
