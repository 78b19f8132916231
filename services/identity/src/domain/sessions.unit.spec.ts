import { describe, expect, it } from 'vitest';
import { judgeRefresh, refreshTokenExpiry } from './sessions.ts';

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
