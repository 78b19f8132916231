import { describe, expect, it } from 'vitest';
import { codeExpiry, codeState, sendDecision } from './one-time-codes.ts';

const at = (s: number) => new Date(Date.UTC(2025, 0, 1) + s * 1000);

describe('one-time codes', () => {
  it('expire: an OTP after 15 minutes, a reset token after 30', () => {
    expect(codeExpiry('email_verification', at(0))).toEqual(at(900));
    expect(codeExpiry('password_reset', at(0))).toEqual(at(1800));
  });

  it('are usable once, before expiry, within the attempt limit', () => {
    const code = { expiresAt: at(900), attempts: 0, consumedAt: null };
    expect(codeState(code, 'email_verification', at(899))).toBe('usable');
    expect(codeState(code, 'email_verification', at(900))).toBe('expired');
    expect(codeState({ ...code, attempts: 4 }, 'email_verification', at(0))).toBe('usable');
    expect(codeState({ ...code, attempts: 5 }, 'email_verification', at(0))).toBe('exhausted');
    expect(codeState({ ...code, consumedAt: at(1) }, 'email_verification', at(2))).toBe('consumed');
  });

  it('are mailed at most once a minute and ten times a day', () => {
    expect(sendDecision([], at(0))).toEqual({ ok: true });
    expect(sendDecision([at(0)], at(30))).toEqual({ ok: false, retryAfterS: 30 });
    expect(sendDecision([at(0)], at(60))).toEqual({ ok: true });
    const ten = Array.from({ length: 10 }, (_, i) => at(i * 3600));
    expect(sendDecision(ten, at(10 * 3600))).toEqual({ ok: false, retryAfterS: 14 * 3600 });
    expect(sendDecision(ten, at(24 * 3600 + 1))).toEqual({ ok: true });
  });
});
