import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, refuse } from '@tessera/service-kit';
import {
  consumeCode,
  countAttempt,
  codeByHash,
  lockLatestCode,
  recentSends,
  replaceCode,
} from '../db/codes.ts';
import { revokeUserSessions } from '../db/sessions.ts';
import { findUserByEmail, findUserById, updateUser, type UserRow } from '../db/users.ts';
import {
  type CodePurpose,
  codeExpiry,
  codeRules,
  codeState,
  sendDecision,
} from '../domain/one-time-codes.ts';
import { generateOtp, keyedHash, randomSecret, sameHex } from '../domain/secrets.ts';
import { mailFailure, type OutgoingMail } from '../mail/mailer.ts';
import { passwordResetMail, verificationMail } from '../mail/messages.ts';
import type { Identity } from '../runtime.ts';
import { LoginThrottle } from './login-throttle.ts';

/** The hash of a code is bound to its account, so equal codes of two accounts differ at rest. */
function codeHash(identity: Identity, userId: string, code: string): string {
  return keyedHash(identity.codeKey, `${userId}:${code}`);
}

function tokenHash(identity: Identity, token: string): string {
  return keyedHash(identity.codeKey, `reset:${token}`);
}

async function mayMail(identity: Identity, userId: string, purpose: CodePurpose) {
  const now = identity.clock();
  const sent = await recentSends(identity.db, userId, purpose, new Date(now.getTime() - 24 * 3600_000));
  return sendDecision(sent, now);
}

async function deliver(identity: Identity, mail: OutgoingMail): Promise<void> {
  try {
    await identity.mailer.send(mail);
  } catch (error) {
    // The code is stored; the person can ask for another once the cooldown has passed.
    // The error names the recipient: only its codes and a cleaned message are logged.
    identity.logger.error({ kind: mail.kind, mail_error: mailFailure(error) }, 'mail could not be sent');
  }
}

/** Mails a new six-digit code unless one went out too recently. */
export async function sendVerificationCode(
  identity: Identity,
  user: Pick<UserRow, 'id' | 'email'>,
): Promise<{ sent: boolean }> {
  if (!user.email || !(await mayMail(identity, user.id, 'email_verification')).ok) return { sent: false };
  const otp = generateOtp();
  const now = identity.clock();
  await replaceCode(identity.db, {
    id: randomUUID(),
    user_id: user.id,
    purpose: 'email_verification',
    code_hash: codeHash(identity, user.id, otp),
    created_at: now,
    expires_at: codeExpiry('email_verification', now),
  });
  const email = user.email;
  await deliver(identity, verificationMail(email, otp, codeRules.email_verification.ttlS / 60));
  return { sent: true };
}

type VerifyOutcome = 'verified' | 'already' | 'invalid' | 'expired' | 'exhausted';

export async function verifyEmail(identity: Identity, email: string, otp: string): Promise<void> {
  const outcome = await identity.db.transaction().execute(async (trx): Promise<VerifyOutcome> => {
    const found = await findUserByEmail(trx, email);
    if (!found || found.status === 'erased') return 'invalid';
    const user = await findUserById(trx, found.id, { forUpdate: true });
    if (!user) return 'invalid';
    if (user.email_verified_at) return 'already';
    const code = await lockLatestCode(trx, user.id, 'email_verification');
    if (!code) return 'invalid';
    const now = identity.clock();
    const state = codeState(
      { expiresAt: code.expires_at, attempts: code.attempts, consumedAt: code.consumed_at },
      'email_verification',
      now,
    );
    if (state === 'consumed') return 'invalid';
    if (state !== 'usable') return state;
    if (!sameHex(codeHash(identity, user.id, otp), code.code_hash)) {
      await countAttempt(trx, code.id);
      return code.attempts + 1 >= codeRules.email_verification.maxAttempts ? 'exhausted' : 'invalid';
    }
    await consumeCode(trx, code.id, now);
    await updateUser(trx, user.id, { email_verified_at: now, updated_at: now });
    await appendToOutbox(trx, [
      buildEvent('identity.user.email-verified.v1', { user_id: user.id }, { subject: user.id }),
    ]);
    return 'verified';
  });
  switch (outcome) {
    case 'verified':
    case 'already':
      return;
    case 'expired':
      throw refuse.invalid('OTP_EXPIRED', 'The code has expired; ask for a new one.');
    case 'exhausted':
      throw refuse.invalid('OTP_ATTEMPTS_EXCEEDED', 'Too many wrong codes; ask for a new one.');
    case 'invalid':
      throw refuse.invalid('OTP_INVALID', 'The code is not valid for this email address.');
  }
}

/** Mails a reset link when the account exists and may have one; silent otherwise. */
export async function sendPasswordReset(identity: Identity, email: string): Promise<void> {
  const user = await findUserByEmail(identity.db, email);
  if (!user?.email || user.status === 'erased') return;
  if (!(await mayMail(identity, user.id, 'password_reset')).ok) return;
  const token = randomSecret(32);
  const now = identity.clock();
  await replaceCode(identity.db, {
    id: randomUUID(),
    user_id: user.id,
    purpose: 'password_reset',
    code_hash: tokenHash(identity, token),
    created_at: now,
    expires_at: codeExpiry('password_reset', now),
  });
  const link = new URL('/reset-password', identity.config.PUBLIC_APP_URL);
  link.searchParams.set('token', token);
  const to = user.email;
  await deliver(identity, passwordResetMail(to, link.toString(), codeRules.password_reset.ttlS / 60));
}

/**
 * Sets a new password with a reset token. It also proves the email address, and ends every
 * session (whoever knew the old password is logged out).
 */
export async function resetPassword(
  identity: Identity,
  token: string,
  newPasswordHash: string,
): Promise<void> {
  const hash = tokenHash(identity, token);
  const email = await identity.db.transaction().execute(async (trx) => {
    // Locks in the service's order, the account first, as erasure takes them (the account, then
    // it deletes the codes): the code read unlocked names the account; then the account is
    // locked, then the code, which is decided on as it is under that lock. Locked the other way
    // round, a reset crossed an erasure of the same account: a deadlock (503 TRY_AGAIN).
    const seen = await codeByHash(trx, 'password_reset', hash);
    if (!seen) return null;
    const user = await findUserById(trx, seen.user_id, { forUpdate: true });
    if (!user?.email || user.status === 'erased') return null;
    const code = await codeByHash(trx, 'password_reset', hash, { lock: true });
    if (code?.user_id !== user.id) return null;
    const now = identity.clock();
    const state = codeState(
      { expiresAt: code.expires_at, attempts: code.attempts, consumedAt: code.consumed_at },
      'password_reset',
      now,
    );
    if (state !== 'usable') return state === 'expired' ? 'expired' : null;
    await consumeCode(trx, code.id, now);
    await updateUser(trx, user.id, {
      password_hash: newPasswordHash,
      updated_at: now,
      ...(user.email_verified_at ? {} : { email_verified_at: now }),
    });
    await revokeUserSessions(trx, user.id, 'password_reset', now, identity.config.ACCESS_TOKEN_TTL_S);
    if (!user.email_verified_at) {
      await appendToOutbox(trx, [
        buildEvent('identity.user.email-verified.v1', { user_id: user.id }, { subject: user.id }),
      ]);
    }
    return { email: user.email };
  });
  if (email === 'expired') {
    throw refuse.invalid('RESET_TOKEN_EXPIRED', 'The reset link has expired; ask for a new one.');
  }
  if (!email) throw refuse.invalid('RESET_TOKEN_INVALID', 'The reset link is not valid; ask for a new one.');
  // A locked-out owner who just proved their mailbox may log in at once.
  await identity.throttle.success(LoginThrottle.accountKey(email.email));
}
