import { type Refusal, refuse } from '@tessera/service-kit';

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

export type RefreshVerdict = 'rotate' | 'grace' | 'reused' | 'expired' | 'revoked' | 'suspended' | 'erased';

/**
 * A token spent at most `graceS` ago is not reuse but a second tab that refreshed at the same
 * moment (`grace`): it gets a pair of its own. Spent any earlier, it is reuse.
 */
export function judgeRefresh(
  token: PresentedToken,
  session: SessionState,
  userStatus: UserStatus,
  now: Date,
  graceS = 0,
): RefreshVerdict {
  if (session.revokedAt) return 'revoked';
  const t = now.getTime();
  if (token.rotatedAt && t - token.rotatedAt.getTime() > graceS * 1000) return 'reused';
  if (token.expiresAt.getTime() <= t || session.expiresAt.getTime() <= t) return 'expired';
  if (userStatus !== 'active') return userStatus;
  return token.rotatedAt ? 'grace' : 'rotate';
}

/** What a refresh token presented to `POST /auth/refresh` finds: its token, session and account. */
export interface RefreshState {
  token: PresentedToken;
  session: SessionState;
  userStatus: UserStatus;
}

/**
 * What a refresh does: rotate the token, or refuse, revoking the whole session (the token's
 * family) first when the token was reused or its account may no longer hold a session.
 */
export type RefreshDecision =
  | {
      rotate: true;
      /** The token was already spent, within the grace: issue, do not spend again. */ grace: boolean;
    }
  | { rotate: false; revokeFamily: false | RevokeReason; refusal: Refusal };

export type RevokeReason = 'refresh_reused' | 'refresh_suspended' | 'refresh_erased';

const invalid = () =>
  refuse.unauthenticated('REFRESH_TOKEN_INVALID', 'The refresh token is not valid; log in again.');

/**
 * Decides a refresh. An unknown token is refused; a reused one (rotated more than `graceS` ago) revokes its
 * family: whoever holds the newer token is logged out with the thief. A suspended or erased
 * account's session is revoked too; an expired or already revoked one is only refused.
 */
export function decideRefresh(
  state: RefreshState | undefined,
  command: { now: Date; graceS?: number },
): RefreshDecision {
  if (!state) return { rotate: false, revokeFamily: false, refusal: invalid() };
  const verdict = judgeRefresh(state.token, state.session, state.userStatus, command.now, command.graceS);
  switch (verdict) {
    case 'rotate':
      return { rotate: true, grace: false };
    case 'grace':
      return { rotate: true, grace: true };
    case 'reused':
      return {
        rotate: false,
        revokeFamily: 'refresh_reused',
        refusal: refuse.unauthenticated(
          'REFRESH_TOKEN_REUSED',
          'This refresh token was already used; the session has been ended for safety. Log in again.',
        ),
      };
    case 'suspended':
      return {
        rotate: false,
        revokeFamily: 'refresh_suspended',
        refusal: refuse.forbidden('This account is suspended.', 'ACCOUNT_SUSPENDED'),
      };
    case 'erased':
      return { rotate: false, revokeFamily: 'refresh_erased', refusal: invalid() };
    case 'expired':
      return {
        rotate: false,
        revokeFamily: false,
        refusal: refuse.unauthenticated('REFRESH_TOKEN_EXPIRED', 'The session has expired; log in again.'),
      };
    case 'revoked':
      return {
        rotate: false,
        revokeFamily: false,
        refusal: refuse.unauthenticated('SESSION_REVOKED', 'This session has ended; log in again.'),
      };
  }
}

/** A refresh token lives its own TTL, but never past the end of its session. */
export function refreshTokenExpiry(now: Date, sessionExpiresAt: Date, ttlS: number): Date {
  return new Date(Math.min(now.getTime() + ttlS * 1000, sessionExpiresAt.getTime()));
}
