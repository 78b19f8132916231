import {
  developmentSecretMessage,
  knownDevelopmentSecret,
  loadConfig,
  serviceConfigSchema,
} from '@tessera/service-kit';
import { z } from 'zod';

const hours = (fallback: number) =>
  z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(fallback);
const minor = (fallback: number) =>
  z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(fallback);

/**
 * The keys payout details are encrypted with: `kid:base64key,kid2:base64key2` (each 32 bytes,
 * `openssl rand -base64 32`). New details use PAYOUTS_ENCRYPTION_KEY_ID; the others still decrypt
 * what they encrypted, so keys rotate without re-encrypting everything at once.
 */
const keyring = z
  .string()
  .transform((value, context) => {
    const keys = new Map<string, Buffer>();
    for (const entry of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const [kid, key] = entry.split(':');
      const bytes = key ? Buffer.from(key, 'base64') : Buffer.alloc(0);
      if (!kid || !/^[A-Za-z0-9_-]{1,32}$/.test(kid) || bytes.length !== 32) {
        context.addIssue({
          code: 'custom',
          message: 'expected kid:base64key pairs of 32-byte keys, comma-separated',
        });
        return z.NEVER;
      }
      keys.set(kid, bytes);
    }
    return keys;
  })
  .optional();

/** A fixed development keyring: never used outside development and tests. */
export const DEVELOPMENT_KEYRING = 'dev1:IobO6fPjpYcAGxXrZcIUS+om0S9AbZeMDZ0i7sAaJUE=';

/** Payouts' own variables on top of the kit's, without the checks that span several. */
export const payoutsVariables = serviceConfigSchema.extend({
  PAYOUTS_ENCRYPTION_KEYS: keyring,
  PAYOUTS_ENCRYPTION_KEY_ID: z.string().min(1).max(32).optional(),
  /** A method added or changed while the account already had one cannot be used for this long. */
  PAYOUTS_METHOD_COOLDOWN_HOURS: hours(24),
  PAYOUTS_MIN_WITHDRAWAL: minor(500),
  /** The most a user may withdraw in a rolling 24 hours (minor units). */
  PAYOUTS_DAILY_LIMIT: minor(100_000),
  PAYOUTS_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('USD'),
  /** Trusted contributors' withdrawals approve themselves after this cooling period (seed 000). */
  PAYOUTS_AUTO_APPROVE_TRUST: z.coerce.number().min(0).max(10).default(8),
  PAYOUTS_AUTO_APPROVE_AFTER_HOURS: hours(72),
  /** Which provider pays: `manual` (an admin pays outside and records it) or `paypal`. */
  PAYOUTS_PROVIDER: z.enum(['manual', 'paypal']).default('manual'),
  PAYPAL_API_BASE: z.url().default('https://api-m.sandbox.paypal.com'),
  PAYPAL_CLIENT_ID: z.string().min(1).optional(),
  PAYPAL_CLIENT_SECRET: z.string().min(1).optional(),
  /**
   * The id of the webhook PayPal sends payout events to: with it, a verified event has the payouts
   * it names asked about at once instead of at their next poll.
   */
  PAYPAL_WEBHOOK_ID: z
    .string()
    .regex(/^[A-Za-z0-9]{1,50}$/)
    .optional(),
  /** Provider retries: attempts before a withdrawal fails for good, and the first backoff. */
  PAYOUTS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  PAYOUTS_RETRY_BASE_MS: z.coerce.number().int().min(10).default(30_000),
  /**
   * How long the sender holds a withdrawal it is asking the provider about: another run (another
   * instance) leaves it alone meanwhile, and if the answer is lost (a crash) it is asked again after.
   * Longer than a provider call can take (PayPal: a token, a retried 401, the payout, its status).
   */
  PAYOUTS_SEND_LEASE_MS: z.coerce.number().int().min(1_000).default(300_000),
  PAYOUTS_JOB_INTERVAL_MS: z.coerce.number().int().min(20).default(5_000),
});

/** Payouts' environment: the kit's variables plus its own, parsed once at start. */
export const payoutsConfigSchema = payoutsVariables
  .superRefine((config, context) => {
    const development = config.NODE_ENV === 'development' || config.NODE_ENV === 'test';
    if (!development && config.PAYOUTS_ENCRYPTION_KEYS === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['PAYOUTS_ENCRYPTION_KEYS'],
        message: 'required outside development: kid:base64key (openssl rand -base64 32)',
      });
    }
    const productionKeys =
      config.NODE_ENV === 'production' ? (config.PAYOUTS_ENCRYPTION_KEYS?.values() ?? []) : [];
    for (const key of productionKeys) {
      const committed = knownDevelopmentSecret(key);
      if (committed === undefined) continue;
      context.addIssue({
        code: 'custom',
        path: ['PAYOUTS_ENCRYPTION_KEYS'],
        message: developmentSecretMessage(committed),
      });
    }
    if (config.PAYOUTS_PROVIDER === 'paypal' && (!config.PAYPAL_CLIENT_ID || !config.PAYPAL_CLIENT_SECRET)) {
      context.addIssue({
        code: 'custom',
        path: ['PAYPAL_CLIENT_ID'],
        message: 'PAYOUTS_PROVIDER=paypal needs PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET',
      });
    }
  })
  .transform((config) => {
    const keys = config.PAYOUTS_ENCRYPTION_KEYS ?? keyring.parse(DEVELOPMENT_KEYRING)!;
    const activeKeyId = config.PAYOUTS_ENCRYPTION_KEY_ID ?? [...keys.keys()][0]!;
    return { ...config, encryption: { keys, activeKeyId } };
  })
  .superRefine((config, context) => {
    if (!config.encryption.keys.has(config.encryption.activeKeyId)) {
      context.addIssue({
        code: 'custom',
        path: ['PAYOUTS_ENCRYPTION_KEY_ID'],
        message: 'must name one of PAYOUTS_ENCRYPTION_KEYS',
      });
    }
  });

export type PayoutsConfig = z.infer<typeof payoutsConfigSchema>;

export function loadPayoutsConfig(env: NodeJS.ProcessEnv = process.env): PayoutsConfig {
  return loadConfig(payoutsConfigSchema, env);
}
