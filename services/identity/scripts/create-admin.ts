/**
 * Creates the first admin account, as identity does at start from ADMIN_EMAIL / ADMIN_PASSWORD:
 *
 *   npm run identity:create-admin -- --email ops@example.com --password '...' [--name Ops]
 *
 * Flags fall back to ADMIN_EMAIL, ADMIN_PASSWORD and ADMIN_FULL_NAME; --database-url or DATABASE_URL
 * names identity's database (created and migrated when new), by default the local runner's. Like the bootstrap, it does nothing once an admin
 * exists, unless --additional is given. The registration event is published by the service's relay.
 */
import { parseArgs } from 'node:util';
import { createDatabase, ensureDatabase, migrateToLatest } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { Passwords } from '../src/auth/passwords.ts';
import { identityEnvSchema } from '../src/config.ts';
import { migrations } from '../src/db/migrations.ts';
import type { IdentityDB } from '../src/db/schema.ts';
import { createAdmin } from '../src/users/bootstrap-admin.ts';

const USAGE = `Usage: npm run identity:create-admin -- --email EMAIL --password PASSWORD [options]

Creates the first admin account (nothing happens once an admin exists, unless --additional).

Options:
  --email EMAIL          Default: $ADMIN_EMAIL
  --password PASSWORD    Default: $ADMIN_PASSWORD (at least 10 characters, not a common password)
  --name NAME            Default: $ADMIN_FULL_NAME, else "Administrator"
  --database-url URL     Identity's database. Default: $DATABASE_URL, else the local runner's
                         postgres://postgres:postgres@127.0.0.1:$PG_PORT(54329)/tessera_identity
  --additional           Create this admin even when another admin exists.
  -h, --help             This text.
`;

function parseFlags() {
  try {
    return parseArgs({
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        'database-url': { type: 'string' },
        additional: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    process.stderr.write(
      `create-admin: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`,
    );
    process.exit(2);
  }
}

const values = parseFlags();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const localDatabaseUrl = `postgres://postgres:postgres@127.0.0.1:${process.env.PG_PORT ?? '54329'}/tessera_identity`;

const settings = identityEnvSchema
  .pick({ DATABASE_URL: true, ARGON2_MEMORY_KIB: true, ARGON2_TIME_COST: true, ADMIN_FULL_NAME: true })
  .extend({ ADMIN_EMAIL: z.email().max(254), ADMIN_PASSWORD: z.string().min(1).max(1024) })
  .safeParse({
    ...process.env,
    DATABASE_URL: values['database-url'] ?? process.env.DATABASE_URL ?? localDatabaseUrl,
    ...(values.email ? { ADMIN_EMAIL: values.email } : {}),
    ...(values.password ? { ADMIN_PASSWORD: values.password } : {}),
    ...(values.name ? { ADMIN_FULL_NAME: values.name } : {}),
  });
if (!settings.success) {
  const problems = settings.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
  process.stderr.write(
    `create-admin: give --email and --password (or ADMIN_EMAIL, ADMIN_PASSWORD) and DATABASE_URL\n${problems}\n`,
  );
  process.exit(2);
}
const config = settings.data;

await ensureDatabase(config.DATABASE_URL);
const db = createDatabase<IdentityDB>(config.DATABASE_URL, { max: 2 });
let exitCode = 0;
try {
  await migrateToLatest(db as Kysely<unknown>, migrations);
  const outcome = await createAdmin(
    {
      db,
      passwords: new Passwords({ memoryKib: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST }),
      clock: () => new Date(),
    },
    { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD, fullName: config.ADMIN_FULL_NAME },
    { onlyIfNoAdmin: !values.additional },
  );
  if (outcome.created) process.stdout.write(`created admin ${outcome.userId}\n`);
  else if (outcome.reason === 'admin_exists')
    process.stdout.write('an admin already exists; nothing done (see --additional)\n');
  else {
    process.stderr.write('create-admin: that email belongs to an existing account; it is not promoted\n');
    exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`create-admin: ${error instanceof Error ? error.message : String(error)}\n`);
  exitCode = 1;
} finally {
  await db.destroy();
}
process.exit(exitCode);
