import {
  developmentSecretMessage,
  knownDevelopmentSecret,
  loadConfig,
  serviceConfigSchema,
} from '@tessera/service-kit';
import { z } from 'zod';
import { keyEncryptionKey } from './keys/encryption.ts';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalText = z.string().min(1).optional();

/** Identity's own variables, on top of what every service reads (scripts pick from these). */
export const identityEnvSchema = serviceConfigSchema.extend({
  /**
   * 32 bytes, base64 or hex: encrypts the private signing keys at rest (AES-256-GCM).
   * Required in production; elsewhere a fixed development key is used.
   */
  IDENTITY_KEY_ENCRYPTION_KEY: optionalText,
  ACCESS_TOKEN_TTL_S: seconds(15 * 60),
  REFRESH_TOKEN_TTL_S: seconds(30 * 24 * 3600),
  /** However often it is refreshed, a session ends this long after the login that began it. */
  SESSION_MAX_AGE_S: seconds(90 * 24 * 3600),
  /** A refresh token spent this recently may be presented again (two tabs at once) without revoking. */
  REFRESH_GRACE_S: z.coerce.number().int().nonnegative().max(60).default(5),
  SIGNING_KEY_ROTATION_INTERVAL_S: seconds(30 * 24 * 3600),
  /** A new key is published this long before it signs, so every verifier has fetched it. */
  SIGNING_KEY_PUBLISH_LEAD_S: z.coerce.number().int().nonnegative().default(60),
  /** Clock skew and JWKS caches: a retired key stays published this long past its last token. */
  SIGNING_KEY_RETIRE_GRACE_S: z.coerce.number().int().nonnegative().default(120),
  SIGNING_KEY_CHECK_INTERVAL_S: seconds(60),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().positive().default(50),
  LOGIN_FAILURE_WINDOW_S: seconds(15 * 60),
  LOGIN_MAX_LOCKOUT_S: seconds(15 * 60),
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(8192).default(19_456),
  ARGON2_TIME_COST: z.coerce.number().int().min(1).max(10).default(2),
  /** smtp(s)://user:pass@host:port; without it mail goes to the dev mailbox (not in production). */
  SMTP_URL: optionalText,
  MAIL_FROM: z.string().min(3).default('Tessera <no-reply@tessera.local>'),
  /**
   * Where the web app lives: reset and invitation links point there. Required outside development
   * and tests, which use the local web app's address.
   */
  PUBLIC_APP_URL: z.url().optional(),
  ADMIN_EMAIL: z.email().max(254).optional(),
  ADMIN_PASSWORD: optionalText,
  ADMIN_FULL_NAME: z.string().min(1).max(200).default('Administrator'),
});

/** The local web app (infra/local): mailed links point there in development and tests. */
const DEVELOPMENT_APP_URL = 'http://localhost:8080';

const checkedConfigSchema = identityEnvSchema.superRefine((config, context) => {
  const development = config.NODE_ENV === 'development' || config.NODE_ENV === 'test';
  if (!development && config.PUBLIC_APP_URL === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['PUBLIC_APP_URL'],
      message: "is required outside development: the web app's address, which mailed links point to",
    });
  }
  if (config.IDENTITY_KEY_ENCRYPTION_KEY) {
    try {
      keyEncryptionKey(config.IDENTITY_KEY_ENCRYPTION_KEY, config.NODE_ENV);
    } catch {
      context.addIssue({
        code: 'custom',
        path: ['IDENTITY_KEY_ENCRYPTION_KEY'],
        message: 'must be 32 bytes: 64 hex digits or base64',
      });
    }
  }
  if (config.NODE_ENV !== 'production') return;
  const committed = developmentKeyOf(config.IDENTITY_KEY_ENCRYPTION_KEY);
  if (committed !== undefined) {
    context.addIssue({
      code: 'custom',
      path: ['IDENTITY_KEY_ENCRYPTION_KEY'],
      message: developmentSecretMessage(committed),
    });
  }
  if (!config.IDENTITY_KEY_ENCRYPTION_KEY) {
    context.addIssue({
      code: 'custom',
      path: ['IDENTITY_KEY_ENCRYPTION_KEY'],
      message: 'is required in production (32 random bytes, base64)',
    });
  }
  if (!config.SMTP_URL) {
    context.addIssue({
      code: 'custom',
      path: ['SMTP_URL'],
      message: 'is required in production (there is no dev mailbox there)',
    });
  }
});

export const identityConfigSchema = checkedConfigSchema.transform((config) => ({
  ...config,
  PUBLIC_APP_URL: config.PUBLIC_APP_URL ?? DEVELOPMENT_APP_URL,
}));

/** Which committed development key the configured key is, if any (a malformed one is reported apart). */
function developmentKeyOf(configured: string | undefined): string | undefined {
  if (!configured) return undefined;
  try {
    return knownDevelopmentSecret(keyEncryptionKey(configured, 'production'));
  } catch {
    return undefined;
  }
}

export type IdentityConfig = z.infer<typeof identityConfigSchema>;

export function loadIdentityConfig(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return loadConfig(identityConfigSchema, env);
}

/** For tests and scripts that start from an already typed configuration. */
export function parseIdentityConfig(input: Record<string, unknown>): IdentityConfig {
  return identityConfigSchema.parse(input);
}
