import { randomUUID } from 'node:crypto';
import { buildEvent, type TesseraEvent } from '@tessera/contracts';
import { appendToOutbox, isUniqueViolation, type Refusal, refuse } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { IdentityDB, Role } from '../db/schema.ts';
import { findUserByEmail, insertUser, type UserRow } from '../db/users.ts';
import { passwordProblem, passwordProblemDetail } from '../domain/password-policy.ts';
import type { Identity } from '../runtime.ts';

export function assertPasswordAcceptable(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw refuse.invalid(problem, passwordProblemDetail[problem]);
}

export function emailTaken(): Refusal {
  return refuse.conflict('EMAIL_TAKEN', 'An account with this email address already exists.');
}

export interface NewUser {
  email: string;
  password: string;
  fullName: string;
  role: Role;
  emailVerified?: boolean;
  /** Passed on to engagement in the registered event; identity does not keep it. */
  referralCode?: string;
}

/**
 * Creates an account and announces it, then runs `then` in the same transaction (signup opens
 * the first session there). Checks the password rules and the email first; the unique index
 * settles a race between two signups with one address.
 */
export async function registerUser<T>(
  identity: Identity,
  input: NewUser,
  then: (trx: Kysely<IdentityDB>, user: UserRow) => Promise<T>,
): Promise<{ user: UserRow; then: T }> {
  assertPasswordAcceptable(input.password);
  if (await findUserByEmail(identity.db, input.email)) throw emailTaken();
  const passwordHash = await identity.passwords.hash(input.password);
  try {
    return await identity.db.transaction().execute(async (trx) => {
      const user = await insertNewUser(trx, input, passwordHash, identity.clock());
      return { user, then: await then(trx, user) };
    });
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_unique')) throw emailTaken();
    throw error;
  }
}

/** The account row and its events, in the caller's transaction. */
export async function insertNewUser(
  trx: Kysely<IdentityDB>,
  input: Omit<NewUser, 'password'>,
  passwordHash: string,
  now: Date,
): Promise<UserRow> {
  const user = await insertUser(trx, {
    id: randomUUID(),
    email: input.email,
    password_hash: passwordHash,
    full_name: input.fullName,
    role: input.role,
    status: 'active',
    suspension_reason: null,
    suspension_reason_code: null,
    email_verified_at: input.emailVerified ? now : null,
    bio: null,
    location: null,
    country: null,
    preferred_language: null,
    languages: [],
    avatar_url: null,
    created_at: now,
    updated_at: now,
    last_login_at: null,
    erased_at: null,
  });
  const events: TesseraEvent[] = [
    buildEvent(
      'identity.user.registered.v1',
      {
        user_id: user.id,
        role: user.role,
        country: null,
        languages: [],
        ...(input.referralCode ? { referral_code: input.referralCode } : {}),
      },
      { subject: user.id },
    ),
  ];
  if (input.emailVerified) {
    events.push(buildEvent('identity.user.email-verified.v1', { user_id: user.id }, { subject: user.id }));
  }
  await appendToOutbox(trx, events);
  return user;
}
