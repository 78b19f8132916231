/**
 * Signing key lifecycle. A key is published (in the JWKS) from its creation, signs from
 * `activatesAt` until it is retired, and stays published until the last token it can have
 * signed has expired, plus a grace for clock skew and caches. Publishing before signing lets
 * every verifier (and every identity instance) learn a key before it meets a token signed by it.
 */
export interface KeyTimes {
  kid: string;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
}

export interface KeyWindows {
  /** Lifetime of an access token. */
  tokenTtlS: number;
  graceS: number;
}

const ms = (s: number) => s * 1000;

/** The key that signs now: the most recently activated one that is not retired. */
export function signingKey<K extends KeyTimes>(keys: readonly K[], now: Date): K | undefined {
  const t = now.getTime();
  return keys
    .filter((k) => k.activatesAt.getTime() <= t && (k.retiredAt === null || k.retiredAt.getTime() > t))
    .sort((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime())[0];
}

/** Whether a token signed by this key could still be unexpired (or is about to be signed). */
export function isPublished(key: KeyTimes, now: Date, windows: KeyWindows): boolean {
  if (key.retiredAt === null) return true;
  return key.retiredAt.getTime() + ms(windows.tokenTtlS + windows.graceS) > now.getTime();
}

export function publishedKeys<K extends KeyTimes>(keys: readonly K[], now: Date, windows: KeyWindows): K[] {
  return keys.filter((k) => isPublished(k, now, windows));
}

/** Retired keys no token can need any more: their rows (and private keys) can go. */
export function prunableKeys<K extends KeyTimes>(keys: readonly K[], now: Date, windows: KeyWindows): K[] {
  return keys.filter((k) => !isPublished(k, now, windows));
}

export interface RotationPlan {
  activatesAt: Date;
  /** Every key not yet retired stops signing when the new one starts. */
  retire: Array<{ kid: string; retiredAt: Date }>;
}

export function planRotation(keys: readonly KeyTimes[], now: Date, leadS: number): RotationPlan {
  const activatesAt = new Date(now.getTime() + ms(leadS));
  return {
    activatesAt,
    retire: keys.filter((k) => k.retiredAt === null).map((k) => ({ kid: k.kid, retiredAt: activatesAt })),
  };
}

/**
 * Time for a new key: there is none that signs now, or the newest key (active or waiting to
 * activate) is older than the rotation interval.
 */
export function rotationDue(keys: readonly KeyTimes[], now: Date, intervalS: number): boolean {
  const live = keys.filter((k) => k.retiredAt === null);
  if (live.length === 0 || !signingKey(keys, now)) return true;
  const newest = Math.max(...live.map((k) => k.activatesAt.getTime()));
  return newest + ms(intervalS) <= now.getTime();
}
