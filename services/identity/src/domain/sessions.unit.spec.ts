import type { Refusal } from '@tessera/service-kit';
import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  decideRefresh,
  judgeRefresh,
  type RefreshDecision,
  type RevokeReason,
  refreshTokenExpiry,
} from './sessions.ts';

const at = (s: number) => new Date(Date.UTC(2025, 0, 1) + s * 1000);
const token = { expiresAt: at(100), rotatedAt: null };
const session = { revokedAt: null, expiresAt: at(1000) };

describe('refresh decisions', () => {
  it('rotates a current token of an open session of an active account', () => {
    expect(judgeRefresh(token, session, 'active', at(10))).toBe('rotate');
  });

  it('calls a rotated token presented again reuse', () => {
    expect(judgeRefresh({ ...token, rotatedAt: at(5) }, session, 'active', at(10))).toBe('reused');
  });

  it('refuses revoked sessions first, then expired tokens and sessions, then inactive accounts', () => {
    expect(
      judgeRefresh({ ...token, rotatedAt: at(5) }, { ...session, revokedAt: at(6) }, 'active', at(10)),
    ).toBe('revoked');
    expect(judgeRefresh(token, session, 'active', at(100))).toBe('expired');
    expect(judgeRefresh({ ...token, expiresAt: at(5000) }, session, 'active', at(1000))).toBe('expired');
    expect(judgeRefresh(token, session, 'suspended', at(10))).toBe('suspended');
    expect(judgeRefresh(token, session, 'erased', at(10))).toBe('erased');
  });

  it('never lets a refresh token outlive its session', () => {
    expect(refreshTokenExpiry(at(0), at(1000), 60)).toEqual(at(60));
    expect(refreshTokenExpiry(at(990), at(1000), 60)).toEqual(at(1000));
  });
});

describe('a refresh', () => {
  const refresh = decider(decideRefresh);
  const state = { token, session, userStatus: 'active' as const };
  const refused = (code: string, kind: string, revokeFamily: RevokeReason | false): RefreshDecision => ({
    rotate: false,
    revokeFamily,
    refusal: expect.objectContaining({ code, kind }) as Refusal,
  });

  it('rotates the presented token when nothing stands in the way', () => {
    refresh
      .given(state)
      .when({ now: at(10) })
      .then({ rotate: true, grace: false });
  });

  it('lets a token spent within the grace be presented again (two tabs at once) without revoking', () => {
    refresh
      .given({ ...state, token: { ...token, rotatedAt: at(5) } })
      .when({ now: at(10), graceS: 5 })
      .then({ rotate: true, grace: true });
  });

  it('revokes the family when a spent token comes back after the grace', () => {
    refresh
      .given({ ...state, token: { ...token, rotatedAt: at(5) } })
      .when({ now: new Date(at(10).getTime() + 1), graceS: 5 })
      .then(refused('REFRESH_TOKEN_REUSED', 'unauthenticated', 'refresh_reused'));
  });

  it('grants no grace to an account that may no longer hold a session, nor to a revoked session', () => {
    refresh
      .given({ ...state, token: { ...token, rotatedAt: at(9) }, userStatus: 'suspended' })
      .when({ now: at(10), graceS: 5 })
      .then(refused('ACCOUNT_SUSPENDED', 'forbidden', 'refresh_suspended'));
    refresh
      .given({ ...state, token: { ...token, rotatedAt: at(9) }, session: { ...session, revokedAt: at(9) } })
      .when({ now: at(10), graceS: 5 })
      .then(refused('SESSION_REVOKED', 'unauthenticated', false));
  });

  it('refresh-token reuse revokes the family', () => {
    refresh
      .given({ ...state, token: { ...token, rotatedAt: at(5) } })
      .when({ now: at(10) })
      .then(refused('REFRESH_TOKEN_REUSED', 'unauthenticated', 'refresh_reused'));
  });

  it('revokes the session of an account that may no longer hold one', () => {
    refresh
      .given({ ...state, userStatus: 'suspended' })
      .when({ now: at(10) })
      .then(refused('ACCOUNT_SUSPENDED', 'forbidden', 'refresh_suspended'));
    refresh
      .given({ ...state, userStatus: 'erased' })
      .when({ now: at(10) })
      .then(refused('REFRESH_TOKEN_INVALID', 'unauthenticated', 'refresh_erased'));
  });

  it('only refuses an unknown or expired token and a session already revoked', () => {
    refresh
      .given(undefined)
      .when({ now: at(10) })
      .then(refused('REFRESH_TOKEN_INVALID', 'unauthenticated', false));
    refresh
      .given(state)
      .when({ now: at(100) })
      .then(refused('REFRESH_TOKEN_EXPIRED', 'unauthenticated', false));
    refresh
      .given({ ...state, session: { ...session, revokedAt: at(6) }, token: { ...token, rotatedAt: at(5) } })
      .when({ now: at(10) })
      .then(refused('SESSION_REVOKED', 'unauthenticated', false));
  });
});
