import { z } from 'zod';

const ms = (fallback: number, min: number) =>
  z.coerce.number().int().min(min).max(86_400_000).default(fallback);

/**
 * This capability's environment variables (merged into engagement's config). What spans several
 * variables (a keyring required outside development, the private-address switch refused in
 * production) cannot be refined here, since engagement spreads the shapes into one object: it is
 * checked when the capability starts (`webhookSettings` in settings.ts) and fails the start with a
 * ConfigError.
 */
export const webhookVariables = {
  /**
   * The keys signing secrets are encrypted with at rest: `kid:base64key,kid2:base64key2` (32-byte
   * keys, `openssl rand -base64 32`). Required outside development and tests.
   */
  ENGAGEMENT_WEBHOOK_KEYS: z.string().min(1).optional(),
  /** The key new secrets are sealed with (default: the first of ENGAGEMENT_WEBHOOK_KEYS). */
  ENGAGEMENT_WEBHOOK_KEY_ID: z.string().min(1).max(32).optional(),
  /**
   * Lets webhooks point at plain http and private, loopback or link-local addresses: for local
   * development and tests only. Refused (the service does not start) with NODE_ENV=production.
   */
  ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /** How often the sender looks for due deliveries. */
  ENGAGEMENT_WEBHOOK_INTERVAL_MS: ms(1_000, 20),
  /** The most one delivery may take (connect, headers and body). */
  ENGAGEMENT_WEBHOOK_TIMEOUT_MS: ms(10_000, 100),
  /** The wait after the first failed attempt; it doubles with each further one (±10 %). */
  ENGAGEMENT_WEBHOOK_RETRY_BASE_MS: ms(30_000, 10),
  /** Attempts before a delivery is given up (`failed`); a redelivery gets as many again. */
  ENGAGEMENT_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  /**
   * A webhook whose deliveries have failed for this long without one succeeding is switched off
   * when its next delivery is given up (its company's managers are told). 0: never.
   */
  ENGAGEMENT_WEBHOOK_DISABLE_AFTER_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400_000)
    .default(3 * 86_400_000),
  /** Settled deliveries (and their attempts) are kept this many days, then pruned. */
  ENGAGEMENT_WEBHOOK_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  /** How often the delivery log is pruned. */
  ENGAGEMENT_WEBHOOK_PRUNE_INTERVAL_MS: ms(3_600_000, 20),
};
