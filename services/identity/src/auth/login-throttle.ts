import type { Kysely } from 'kysely';
import type { IdentityConfig } from '../config.ts';
import type { IdentityDB } from '../db/schema.ts';
import { clearThrottle, lockThrottle, readThrottle, writeThrottle } from '../db/throttle.ts';
import { sha256Hex } from '../domain/secrets.ts';
import {
  afterFailure,
  combine,
  type ThrottleDecision,
  throttleDecision,
  type ThrottlePolicy,
} from '../domain/throttle.ts';

export interface ThrottlePolicies {
  account: ThrottlePolicy;
  address: ThrottlePolicy;
}

export function throttlePolicies(config: IdentityConfig): ThrottlePolicies {
  return {
    account: {
      maxFailures: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      windowS: config.LOGIN_FAILURE_WINDOW_S,
      baseLockS: 30,
      maxLockS: config.LOGIN_MAX_LOCKOUT_S,
    },
    address: {
      maxFailures: config.LOGIN_MAX_FAILURES_PER_IP,
      windowS: config.LOGIN_FAILURE_WINDOW_S,
      baseLockS: 60,
      maxLockS: config.LOGIN_MAX_LOCKOUT_S,
    },
  };
}

/**
 * Failed logins counted in Postgres, so every identity instance sees the same counts. The
 * account key is a hash of the email: the table holds no addresses, and unknown emails are
 * counted exactly like known ones.
 */
export class LoginThrottle {
  constructor(
    private readonly db: Kysely<IdentityDB>,
    private readonly policies: ThrottlePolicies,
    private readonly clock: () => Date,
  ) {}

  static accountKey(email: string): string {
    return `account:${sha256Hex(email.trim().toLowerCase())}`;
  }

  static addressKey(scope: string, ip: string): string {
    return `${scope}:${ip}`;
  }

  async check(keys: { account?: string; address: string }): Promise<ThrottleDecision> {
    const states = await readThrottle(this.db, [keys.address, ...(keys.account ? [keys.account] : [])]);
    const now = this.clock();
    return combine([...states.values()].map((state) => throttleDecision(state, now)));
  }

  /**
   * Records one login attempt whose password has been checked already (the slow argon2 work holds
   * no connection and no lock), with the account's throttle row locked: concurrent attempts at one
   * account are recorded one by one, and once the failures recorded reach the limit every later
   * attempt is refused, whatever it found. So however many guesses arrive at once, no more than the
   * limit are ever answered. `found` is what the attempt found, or undefined for a wrong email or
   * password. The address is checked and counted too, but not held: one address may log in to
   * many accounts at once.
   */
  async record<T>(
    keys: { account: string; address: string },
    found: T | undefined,
  ): Promise<{ allowed: false; retryAfterS: number } | { allowed: true; result: T | undefined }> {
    return this.db.transaction().execute(async (trx) => {
      const now = this.clock();
      const account = await lockThrottle(trx, keys.account, now);
      const address = (await readThrottle(trx, [keys.address])).get(keys.address);
      const decision = combine([throttleDecision(account, now), throttleDecision(address, now)]);
      if (!decision.allowed) return decision;
      if (found === undefined) {
        // The account's row first, as everywhere: it is already held, so no two attempts wait on
        // each other's locks.
        await writeThrottle(trx, keys.account, afterFailure(account, now, this.policies.account), now);
        const held = await lockThrottle(trx, keys.address, now);
        await writeThrottle(trx, keys.address, afterFailure(held, now, this.policies.address), now);
      } else {
        await clearThrottle(trx, keys.account);
      }
      return { allowed: true, result: found };
    });
  }

  async failure(keys: { account?: string; address: string }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const now = this.clock();
      const entries: Array<[string, ThrottlePolicy]> = [[keys.address, this.policies.address]];
      if (keys.account) entries.push([keys.account, this.policies.account]);
      // Always in the same order, so two transactions never wait on each other's locks.
      entries.sort(([a], [b]) => a.localeCompare(b));
      for (const [key, policy] of entries) {
        const state = await lockThrottle(trx, key, now);
        await writeThrottle(trx, key, afterFailure(state, now, policy), now);
      }
    });
  }

  async success(accountKey: string): Promise<void> {
    await clearThrottle(this.db, accountKey);
  }
}
