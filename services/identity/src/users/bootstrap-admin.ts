import { Refusal } from '@tessera/service-kit';
import { sql } from 'kysely';
import { adminExists, findUserByEmail } from '../db/users.ts';
import type { Identity } from '../runtime.ts';
import { assertPasswordAcceptable, insertNewUser } from './register.ts';

export type AdminOutcome =
  { created: true; userId: string } | { created: false; reason: 'admin_exists' | 'email_taken' };

/**
 * Creates an admin account (email already verified). With `onlyIfNoAdmin`, as at start, nothing
 * happens once any admin exists; an email held by another account is never promoted.
 * Instances starting together take an advisory lock, so one admin is created, not two.
 */
export async function createAdmin(
  identity: Pick<Identity, 'db' | 'passwords' | 'clock'>,
  input: { email: string; password: string; fullName: string },
  options: { onlyIfNoAdmin: boolean },
): Promise<AdminOutcome> {
  assertPasswordAcceptable(input.password);
  const passwordHash = await identity.passwords.hash(input.password);
  return identity.db.transaction().execute(async (trx): Promise<AdminOutcome> => {
    await sql`select pg_advisory_xact_lock(hashtext('tessera-identity:bootstrap-admin'))`.execute(trx);
    if (options.onlyIfNoAdmin && (await adminExists(trx))) return { created: false, reason: 'admin_exists' };
    if (await findUserByEmail(trx, input.email)) return { created: false, reason: 'email_taken' };
    const user = await insertNewUser(
      trx,
      { email: input.email, fullName: input.fullName, role: 'admin', emailVerified: true },
      passwordHash,
      identity.clock(),
    );
    return { created: true, userId: user.id };
  });
}

/** ADMIN_EMAIL + ADMIN_PASSWORD at start, as Keycloak's bootstrap admin. */
export async function bootstrapAdmin(identity: Identity): Promise<void> {
  const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password, ADMIN_FULL_NAME: fullName } = identity.config;
  if (!email || !password || (await adminExists(identity.db))) return;
  let outcome: AdminOutcome;
  try {
    outcome = await createAdmin(identity, { email, password, fullName }, { onlyIfNoAdmin: true });
  } catch (error) {
    if (error instanceof Refusal) throw new Error(`ADMIN_PASSWORD is refused: ${error.message}`);
    throw error;
  }
  if (outcome.created) identity.logger.info({ userId: outcome.userId }, 'bootstrap admin created');
  else if (outcome.reason === 'email_taken') {
    identity.logger.error('ADMIN_EMAIL belongs to an existing non-admin account; no admin was created');
  }
}
