/**
 * A session is a family of refresh tokens: each refresh replaces the presented token by a new
 * one. A token presented again after it was replaced means two parties hold it, so the whole
 * family is revoked (OAuth 2.0 Security BCP, refresh token rotation).
 */
export interface PresentedToken {
  expiresAt: Date;
  rotatedAt: Date | null;
}

export interface SessionState {
  revokedAt: Date | null;
  expiresAt: Date;
}

export type UserStatus = 'active' | 'suspended' | 'erased';

export type RefreshVerdict = 'rotate' | 'reused' | 'expired' | 'revoked' | 'suspended' | 'erased';

export function judgeRefresh(
  token: PresentedToken,
  session: SessionState,
  userStatus: UserStatus,
  now: Date,
): RefreshVerdict {
  if (session.revokedAt) return 'revoked';
  if (token.rotatedAt) return 'reused';
  const t = now.getTime();
  if (token.expiresAt.getTime() <= t || session.expiresAt.getTime() <= t) return 'expired';
  if (userStatus !== 'active') return userStatus;
  return 'rotate';
}

/** A refresh token lives its own TTL, but never past the end of its session. */
export function refreshTokenExpiry(now: Date, sessionExpiresAt: Date, ttlS: number): Date {
  return new Date(Math.min(now.getTime() + ttlS * 1000, sessionExpiresAt.getTime()));
}
