import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from './signature.ts';

const secret = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA';
const body = '{"id":"x","type":"submission.approved","data":{"reward":{"amount":150,"currency":"USD"}}}';
const sentAt = new Date('2025-03-01T12:00:00.000Z');
const t = Math.floor(sentAt.getTime() / 1000);

describe('webhook signatures', () => {
  it('signs `${t}.${body}` with HMAC-SHA256 of the whole secret, Stripe style', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signatureHeader([secret], body, sentAt)).toBe(`t=${t},v1=${expected}`);
  });

  it('verifies what it signed, within the tolerance either way', () => {
    const header = signatureHeader([secret], body, sentAt);
    expect(verifySignature(secret, header, body, sentAt)).toEqual({ ok: true, timestamp: t });
    expect(verifySignature(secret, header, body, new Date(sentAt.getTime() + 299_000)).ok).toBe(true);
    expect(verifySignature(secret, header, body, new Date(sentAt.getTime() - 299_000)).ok).toBe(true);
  });

  it('refuses a replayed old request and one stamped far in the future', () => {
    const header = signatureHeader([secret], body, sentAt);
    expect(verifySignature(secret, header, body, new Date(sentAt.getTime() + 301_000))).toEqual({
      ok: false,
      reason: 'too_old',
    });
    expect(verifySignature(secret, header, body, new Date(sentAt.getTime() - 301_000))).toEqual({
      ok: false,
      reason: 'too_new',
    });
    expect(verifySignature(secret, header, body, new Date(sentAt.getTime() + 3_600_000), 7_200).ok).toBe(
      true,
    );
  });

  it('refuses a tampered body, another secret, and a timestamp moved to look fresh', () => {
    const header = signatureHeader([secret], body, sentAt);
    const tampered = body.replace('150', '15000');
    expect(verifySignature(secret, header, tampered, sentAt)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(`${secret}x`, header, body, sentAt)).toEqual({ ok: false, reason: 'mismatch' });
    const later = new Date(sentAt.getTime() + 3_600_000);
    const moved = header.replace(`t=${t}`, `t=${t + 3_600}`);
    expect(verifySignature(secret, moved, body, later)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('accepts any one matching v1 (during a rotation both secrets sign) and ignores unknown schemes', () => {
    const header = signatureHeader(['whsec_new', secret], body, sentAt);
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect(verifySignature(secret, header, body, sentAt).ok).toBe(true);
    expect(verifySignature('whsec_new', header, body, sentAt).ok).toBe(true);
    expect(verifySignature(secret, `${header},v2=abc`, body, sentAt).ok).toBe(true);
  });

  it.each([
    '',
    'garbage',
    `t=${t}`,
    'v1=' + 'a'.repeat(64),
    `t=abc,v1=${'a'.repeat(64)}`,
    `t=${t},v1=xyz`,
    `t=${t},t=${t},v1=${'a'.repeat(64)}`,
  ])('calls %j malformed', (header) => {
    expect(verifySignature(secret, header, body, sentAt)).toEqual({ ok: false, reason: 'malformed' });
  });
});
