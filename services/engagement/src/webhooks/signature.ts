import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `tessera-signature` header, Stripe style: `t=<unix seconds>,v1=<hex HMAC-SHA256>` where the
 * HMAC key is the whole secret string (`whsec_...`, as shown at creation) and the message is
 * `${t}.${body}` (the raw request body, byte for byte). While a rotated secret is still honoured,
 * the header carries one `v1` per secret. A receiver checks one of them matches and that `t` is
 * recent, which stops a captured request being replayed later.
 */

export const SIGNATURE_HEADER = 'tessera-signature';

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The header for `body` sent at `now`, signed with each of `secrets` (current first). */
export function signatureHeader(secrets: readonly string[], body: string, now: Date): string {
  const t = Math.floor(now.getTime() / 1000);
  return [`t=${t}`, ...secrets.map((secret) => `v1=${hmac(secret, t, body)}`)].join(',');
}

export type SignatureCheck =
  { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'too_old' | 'too_new' | 'mismatch' };

/**
 * What a receiver runs: whether `header` signs `body` with `secret`, sent within
 * `toleranceSeconds` of `now` (either way: a clock ahead of ours is as suspect as a replay).
 */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  now: Date,
  toleranceSeconds = 300,
): SignatureCheck {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 1) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return { ok: false, reason: 'malformed' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return { ok: false, reason: 'malformed' };
      signatures.push(value);
    }
    // Other schemes (a future v2) are ignored, so they can be added without breaking receivers.
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  const age = Math.floor(now.getTime() / 1000) - timestamp;
  if (age > toleranceSeconds) return { ok: false, reason: 'too_old' };
  if (age < -toleranceSeconds) return { ok: false, reason: 'too_new' };
  const expected = Buffer.from(hmac(secret, timestamp, body), 'hex');
  const matches = signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
  return matches ? { ok: true, timestamp } : { ok: false, reason: 'mismatch' };
}
