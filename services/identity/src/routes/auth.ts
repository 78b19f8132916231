import { type HttpApp, refuse } from '@tessera/service-kit';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { sendPasswordReset, sendVerificationCode, resetPassword, verifyEmail } from '../auth/email-codes.ts';
import { LoginThrottle } from '../auth/login-throttle.ts';
import { openSession, refreshSession } from '../auth/sessions.ts';
import { findApiKeyByPrefix, touchApiKey } from '../db/api-keys.ts';
import { revokeSession } from '../db/sessions.ts';
import { findUserByEmail, findUserById, updateUser } from '../db/users.ts';
import { parseApiKey } from '../domain/api-keys.ts';
import { sameHex } from '../domain/secrets.ts';
import type { Identity } from '../runtime.ts';
import { presentUser, userSchema } from '../users/presenter.ts';
import { assertPasswordAcceptable, registerUser } from '../users/register.ts';
import { accountSuspended, tooManyAttempts } from './guards.ts';
import { bearer, email, name, newPassword, password, sessionSchema } from './schemas.ts';

const accepted = z.object({ message: z.string() });
const invalidCredentials = () =>
  refuse.unauthenticated('INVALID_CREDENTIALS', 'The email or password is wrong.');
const tags = ['auth'];

export function registerAuthRoutes(app: HttpApp, identity: Identity): void {
  const { db, throttle, passwords } = identity;

  /** Mail work whose timing must not tell whether an account exists: done after the reply. */
  const inBackground = (work: () => Promise<unknown>) => {
    work().catch((error: unknown) => identity.logger.error({ err: error }, 'background mail work failed'));
  };

  app.post(
    '/auth/signup',
    {
      schema: {
        tags,
        summary: 'Create an account (contributor or company) and open a session',
        body: z.strictObject({
          email,
          password: newPassword,
          full_name: name,
          role: z.enum(['contributor', 'company']).default('contributor'),
          /** A referral code another user shared (engagement checks it; an unknown one is ignored). */
          referral_code: z
            .string()
            .trim()
            .toUpperCase()
            .regex(/^[A-Z0-9]{4,16}$/, 'expected the 4–16 letters and digits of a referral code')
            .optional(),
        }),
        response: { 201: z.object({ user: userSchema, session: sessionSchema }) },
      },
    },
    async (request, reply) => {
      const { email, password, full_name, role, referral_code } = request.body;
      const { user, then: session } = await registerUser(
        identity,
        {
          email,
          password,
          fullName: full_name,
          role,
          ...(referral_code ? { referralCode: referral_code } : {}),
        },
        (trx, user) => openSession(identity, trx, user),
      );
      await sendVerificationCode(identity, user);
      return reply.code(201).send({ user: presentUser(user), session });
    },
  );

  app.post(
    '/auth/login',
    {
      schema: {
        tags,
        summary: 'Log in with email and password',
        body: z.strictObject({ email, password }),
        response: { 200: z.object({ user: userSchema, session: sessionSchema }) },
      },
    },
    async (request, reply) => {
      const keys = {
        account: LoginThrottle.accountKey(request.body.email),
        address: LoginThrottle.addressKey('login', request.ip),
      };
      // Refused before any argon2 work when already locked; then the password is checked with no
      // connection or lock held (a burst of logins cannot drain the pool), and the outcome is
      // recorded under the account's lock, which refuses it if the limit was reached meanwhile.
      const before = await throttle.check(keys);
      if (!before.allowed) return tooManyAttempts(reply, before.retryAfterS, 'LOGIN_THROTTLED');
      const candidate = await findUserByEmail(db, request.body.email);
      const matches = await passwords.verify(candidate?.password_hash, request.body.password);
      const outcome = await throttle.record(
        keys,
        candidate?.password_hash && matches
          ? { ...candidate, password_hash: candidate.password_hash }
          : undefined,
      );
      if (!outcome.allowed) return tooManyAttempts(reply, outcome.retryAfterS, 'LOGIN_THROTTLED');
      const found = outcome.result;
      if (!found) throw invalidCredentials();
      if (found.status !== 'active') throw accountSuspended();
      // The password is at hand only now: bring its hash up to today's parameters.
      const rehashed = passwords.needsRehash(found.password_hash)
        ? { password_hash: await passwords.hash(request.body.password) }
        : {};
      const { user, session } = await db.transaction().execute(async (trx) => {
        // The password was checked with no lock held: a reset, suspension or erasure may have
        // committed since, and ended every session it saw. Under the account's row lock (which
        // they take too), the session opens only if the hash checked is still the account's and
        // the account is still active; else the answer is the one a later login would get. A hash
        // changed by another login's rehash of this same password (new parameters) is checked again
        // (rare: one more argon2 check under the lock); a reset's new hash refuses.
        const locked = await findUserById(trx, found.id, { forNoKeyUpdate: true });
        if (!locked?.password_hash) throw invalidCredentials();
        const unchanged = locked.password_hash === found.password_hash;
        if (!unchanged && !(await passwords.verify(locked.password_hash, request.body.password)))
          throw invalidCredentials();
        if (locked.status !== 'active') throw accountSuspended();
        const user = await updateUser(trx, found.id, {
          ...(unchanged ? rehashed : {}),
          last_login_at: identity.clock(),
        });
        return { user, session: await openSession(identity, trx, user) };
      });
      return { user: presentUser(user), session };
    },
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        tags,
        summary: 'Exchange a refresh token for new tokens (the presented one stops working)',
        body: z.strictObject({ refresh_token: z.string().min(1).max(200) }),
        response: { 200: z.object({ session: sessionSchema }) },
      },
    },
    async (request) => ({ session: await refreshSession(identity, request.body.refresh_token) }),
  );

  app.post(
    '/auth/logout',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'End the session of the bearer token (its refresh tokens stop working)',
        security: bearer,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      // The token was verified by `authenticate`; only its session id is read here.
      const token = request.headers.authorization!.slice('Bearer '.length);
      const { sid } = decodeJwt(token);
      if (typeof sid === 'string') {
        const ttlS = identity.config.ACCESS_TOKEN_TTL_S;
        await db.transaction().execute((trx) => revokeSession(trx, sid, 'logout', identity.clock(), ttlS));
      }
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/verify-email',
    {
      schema: {
        tags,
        summary: 'Prove the email address with the six-digit code mailed at signup',
        body: z.strictObject({ email, otp: z.string().regex(/^\d{6}$/, 'must be six digits') }),
        response: { 200: z.object({ email_verified: z.literal(true) }) },
      },
    },
    async (request) => {
      await verifyEmail(identity, request.body.email, request.body.otp);
      return { email_verified: true as const };
    },
  );

  app.post(
    '/auth/resend-otp',
    {
      schema: {
        tags,
        summary: 'Mail a new verification code (answers 202 whether or not the account exists)',
        body: z.strictObject({ email }),
        response: { 202: accepted },
      },
    },
    async (request, reply) => {
      inBackground(async () => {
        const user = await findUserByEmail(db, request.body.email);
        if (user?.status === 'active' && !user.email_verified_at) await sendVerificationCode(identity, user);
      });
      return reply.code(202).send({ message: 'If the account needs a code, one is on its way.' });
    },
  );

  app.post(
    '/auth/forgot-password',
    {
      schema: {
        tags,
        summary: 'Mail a password reset link (answers 202 whether or not the account exists)',
        body: z.strictObject({ email }),
        response: { 202: accepted },
      },
    },
    async (request, reply) => {
      inBackground(() => sendPasswordReset(identity, request.body.email));
      return reply.code(202).send({ message: 'If the account exists, a reset link is on its way.' });
    },
  );

  app.post(
    '/auth/reset-password',
    {
      schema: {
        tags,
        summary: 'Choose a new password with the token from a reset link; every session ends',
        body: z.strictObject({ token: z.string().min(1).max(200), new_password: newPassword }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      assertPasswordAcceptable(request.body.new_password);
      const hash = await passwords.hash(request.body.new_password);
      await resetPassword(identity, request.body.token, hash);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/token',
    {
      schema: {
        tags,
        summary: "Exchange a company API key for an access token (role company, the key's scopes)",
        body: z.strictObject({ api_key: z.string().min(1).max(200) }),
        response: {
          200: z.object({
            access_token: z.string(),
            token_type: z.literal('Bearer'),
            expires_in: z.number().int(),
          }),
        },
      },
    },
    async (request, reply) => {
      const keys = { address: LoginThrottle.addressKey('token', request.ip) };
      const decision = await throttle.check(keys);
      if (!decision.allowed) tooManyAttempts(reply, decision.retryAfterS);

      const parsed = parseApiKey(request.body.api_key);
      const row = parsed && (await findApiKeyByPrefix(db, parsed.prefix));
      if (!parsed || !row || !sameHex(row.key_hash, parsed.hash)) {
        await throttle.failure(keys);
        throw refuse.unauthenticated('API_KEY_INVALID', 'The API key is not valid.');
      }
      if (row.revoked_at) throw refuse.unauthenticated('API_KEY_REVOKED', 'The API key has been revoked.');
      await touchApiKey(db, row.id, identity.clock());
      const access = await identity.keys.sign({
        sub: row.id,
        role: 'company',
        companyId: row.company_id,
        scopes: row.scopes,
      });
      return { access_token: access.token, token_type: 'Bearer' as const, expires_in: access.expiresIn };
    },
  );
}
