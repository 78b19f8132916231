import type { Clock, Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { LoginThrottle, throttlePolicies } from './auth/login-throttle.ts';
import { Passwords } from './auth/passwords.ts';
import type { IdentityConfig } from './config.ts';
import type { IdentityDB } from './db/schema.ts';
import { keyEncryptionKey, subkey } from './keys/encryption.ts';
import { SigningKeys } from './keys/signing-keys.ts';
import { createDevMailbox, createSmtpMailer, type Mailer } from './mail/mailer.ts';

/** Everything identity's routes and jobs work with, built once at start. */
export interface Identity {
  config: IdentityConfig;
  db: Kysely<IdentityDB>;
  logger: Logger;
  clock: Clock;
  keys: SigningKeys;
  passwords: Passwords;
  throttle: LoginThrottle;
  mailer: Mailer;
  /** Keys the hashes of one-time codes and reset tokens. */
  codeKey: Buffer;
}

export interface IdentityOverrides {
  mailer?: Mailer;
}

export function createIdentity(
  config: IdentityConfig,
  db: Kysely<IdentityDB>,
  logger: Logger,
  overrides: IdentityOverrides & { clock: Clock },
): Identity {
  const { clock } = overrides;
  const master = keyEncryptionKey(config.IDENTITY_KEY_ENCRYPTION_KEY, config.NODE_ENV);
  if (!config.IDENTITY_KEY_ENCRYPTION_KEY) {
    logger.warn('IDENTITY_KEY_ENCRYPTION_KEY is not set: signing keys are sealed with the development key');
  }
  const keys = new SigningKeys({
    db,
    encryptionKey: subkey(master, 'signing-keys'),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTokenTtlS: config.ACCESS_TOKEN_TTL_S,
    graceS: config.SIGNING_KEY_RETIRE_GRACE_S,
    leadS: config.SIGNING_KEY_PUBLISH_LEAD_S,
    rotationIntervalS: config.SIGNING_KEY_ROTATION_INTERVAL_S,
    clock,
    logger: logger.child({ component: 'signing-keys' }),
  });
  const mailer =
    overrides.mailer ??
    (config.SMTP_URL ? createSmtpMailer(config.SMTP_URL, config.MAIL_FROM) : createDevMailbox(db, clock));
  return {
    config,
    db,
    logger,
    clock,
    keys,
    passwords: new Passwords({ memoryKib: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST }),
    throttle: new LoginThrottle(db, throttlePolicies(config), clock),
    mailer,
    codeKey: subkey(master, 'one-time-codes'),
  };
}
