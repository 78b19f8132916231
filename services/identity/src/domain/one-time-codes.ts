/** Email verification codes and password reset tokens: single use, expiring, hashed at rest. */
export type CodePurpose = 'email_verification' | 'password_reset';

export const codeRules = {
  email_verification: { ttlS: 15 * 60, maxAttempts: 5 },
  password_reset: { ttlS: 30 * 60, maxAttempts: 1 },
} as const satisfies Record<CodePurpose, { ttlS: number; maxAttempts: number }>;

/** Between two mails of one kind to one account, and how many a day. */
export const sendRules = { cooldownS: 60, maxPerDay: 10 } as const;

export interface StoredCode {
  expiresAt: Date;
  attempts: number;
  consumedAt: Date | null;
}

export type CodeState = 'usable' | 'expired' | 'exhausted' | 'consumed';

export function codeState(code: StoredCode, purpose: CodePurpose, now: Date): CodeState {
  if (code.consumedAt) return 'consumed';
  if (code.attempts >= codeRules[purpose].maxAttempts) return 'exhausted';
  if (code.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'usable';
}

export function codeExpiry(purpose: CodePurpose, now: Date): Date {
  return new Date(now.getTime() + codeRules[purpose].ttlS * 1000);
}

/**
 * May another code be mailed, given when the earlier ones were (newest first or any order)?
 * Answers the wait in seconds when not.
 */
export function sendDecision(
  sentAt: readonly Date[],
  now: Date,
): { ok: true } | { ok: false; retryAfterS: number } {
  const t = now.getTime();
  const lastDay = sentAt.map((d) => d.getTime()).filter((s) => s > t - 24 * 3600_000);
  const newest = Math.max(-Infinity, ...lastDay);
  if (newest > t - sendRules.cooldownS * 1000) {
    return { ok: false, retryAfterS: Math.ceil((newest + sendRules.cooldownS * 1000 - t) / 1000) };
  }
  if (lastDay.length >= sendRules.maxPerDay) {
    const oldest = Math.min(...lastDay);
    return { ok: false, retryAfterS: Math.ceil((oldest + 24 * 3600_000 - t) / 1000) };
  }
  return { ok: true };
}
