/**
 * Rotates identity's signing key now, against its database:
 *
 *   npm run identity:rotate-keys [-- --lead-seconds 60]
 *
 * The new key is published at once and signs after the lead (default SIGNING_KEY_PUBLISH_LEAD_S),
 * by when every running instance has re-read the key table; the old key stays published until
 * its last token has expired. Uses DATABASE_URL (default: the local runner's) and, in production, IDENTITY_KEY_ENCRYPTION_KEY.
 */
import { parseArgs } from 'node:util';
import { createDatabase, createLogger } from '@tessera/service-kit';
import { identityEnvSchema } from '../src/config.ts';
import type { IdentityDB } from '../src/db/schema.ts';
import { keyEncryptionKey, subkey } from '../src/keys/encryption.ts';
import { SigningKeys } from '../src/keys/signing-keys.ts';

const { values } = parseArgs({ options: { 'lead-seconds': { type: 'string' } } });

const settings = identityEnvSchema
  .pick({
    DATABASE_URL: true,
    NODE_ENV: true,
    IDENTITY_KEY_ENCRYPTION_KEY: true,
    JWT_ISSUER: true,
    JWT_AUDIENCE: true,
    ACCESS_TOKEN_TTL_S: true,
    SIGNING_KEY_RETIRE_GRACE_S: true,
    SIGNING_KEY_PUBLISH_LEAD_S: true,
    SIGNING_KEY_ROTATION_INTERVAL_S: true,
  })
  .safeParse({
    // Without DATABASE_URL, the local runner's identity database (npm start), in the runner's
    // development mode; against any other database NODE_ENV must be given (no silent default).
    ...(process.env.DATABASE_URL
      ? {}
      : {
          DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${process.env.PG_PORT ?? '54329'}/tessera_identity`,
          NODE_ENV: 'development',
        }),
    ...process.env,
  });
if (!settings.success) {
  process.stderr.write(
    `rotate-keys: ${settings.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`,
  );
  process.exit(2);
}
const config = settings.data;
const leadS =
  values['lead-seconds'] === undefined ? config.SIGNING_KEY_PUBLISH_LEAD_S : Number(values['lead-seconds']);
if (!Number.isInteger(leadS) || leadS < 0) {
  process.stderr.write('rotate-keys: --lead-seconds must be a whole number of seconds\n');
  process.exit(2);
}

const db = createDatabase<IdentityDB>(config.DATABASE_URL, { max: 2 });
try {
  const keys = new SigningKeys({
    db,
    encryptionKey: subkey(
      keyEncryptionKey(config.IDENTITY_KEY_ENCRYPTION_KEY, config.NODE_ENV),
      'signing-keys',
    ),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTokenTtlS: config.ACCESS_TOKEN_TTL_S,
    graceS: config.SIGNING_KEY_RETIRE_GRACE_S,
    leadS,
    rotationIntervalS: config.SIGNING_KEY_ROTATION_INTERVAL_S,
    clock: () => new Date(),
    logger: createLogger({ name: 'rotate-keys', level: 'warn' }),
  });
  const kid = await keys.rotate({ leadS });
  await keys.prune();
  process.stdout.write(
    `new signing key ${kid} (signs from ${new Date(Date.now() + leadS * 1000).toISOString()})\n`,
  );
  for (const key of keys.describe())
    process.stdout.write(`  ${key.kid}  ${key.state}${key.published ? '  published' : ''}\n`);
} finally {
  await db.destroy();
}
