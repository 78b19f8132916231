import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type HttpApp, safeText } from '@tessera/service-kit';
import type { Updateable } from 'kysely';
import { z } from 'zod';
import type { UsersTable } from '../db/schema.ts';
import { findUserById, updateUser } from '../db/users.ts';
import type { Identity } from '../runtime.ts';
import { eraseUser } from '../users/erase.ts';
import { presentUser, userSchema } from '../users/presenter.ts';
import { assertActive, currentUser } from './guards.ts';
import { bearer, countryCode, httpUrl, languageTag, name } from './schemas.ts';

const tags = ['users'];

/** A change of profile (exported for its unit test). */
export const profilePatch = z.strictObject({
  full_name: name.optional(),
  bio: safeText(2000, { multiline: true }).nullable().optional(),
  location: safeText(100).nullable().optional(),
  country: countryCode.nullable().optional(),
  preferred_language: languageTag.nullable().optional(),
  languages: z.array(languageTag).max(50).optional(),
  avatar_url: httpUrl.nullable().optional(),
});

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

export function registerUserRoutes(app: HttpApp, identity: Identity): void {
  const { db } = identity;

  app.get(
    '/api/v1/users/me',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'The account of the bearer',
        security: bearer,
        response: { 200: z.object({ user: userSchema }) },
      },
    },
    async (request) => ({ user: presentUser(await currentUser(identity, request)) }),
  );

  app.patch(
    '/api/v1/users/me',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Change the name and profile of the bearer (null clears a field)',
        security: bearer,
        body: profilePatch,
        response: { 200: z.object({ user: userSchema }) },
      },
    },
    async (request) => {
      const me = await currentUser(identity, request);
      assertActive(me);
      const body = request.body;
      const user = await db.transaction().execute(async (trx) => {
        const before = (await findUserById(trx, me.id, { forUpdate: true }))!;
        const patch: Updateable<UsersTable> = {};
        if (body.full_name !== undefined) patch.full_name = body.full_name;
        if (body.bio !== undefined) patch.bio = body.bio;
        if (body.location !== undefined) patch.location = body.location;
        if (body.country !== undefined) patch.country = body.country;
        if (body.preferred_language !== undefined) patch.preferred_language = body.preferred_language;
        if (body.languages !== undefined) {
          patch.languages = [...new Map(body.languages.map((l) => [l.toLowerCase(), l])).values()];
        }
        if (body.avatar_url !== undefined) patch.avatar_url = body.avatar_url;
        if (Object.keys(patch).length === 0) return before;
        const after = await updateUser(trx, me.id, { ...patch, updated_at: identity.clock() });
        const eligibilityChanged =
          before.country !== after.country ||
          before.preferred_language !== after.preferred_language ||
          !sameList(before.languages, after.languages);
        if (eligibilityChanged) {
          await appendToOutbox(trx, [
            buildEvent(
              'identity.user.profile-updated.v1',
              {
                user_id: after.id,
                country: after.country,
                languages: after.languages,
                preferred_language: after.preferred_language,
              },
              { subject: after.id },
            ),
          ]);
        }
        return after;
      });
      return { user: presentUser(user) };
    },
  );

  app.delete(
    '/api/v1/users/me',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Erase the account of the bearer: personal data removed, sessions ended, services told',
        security: bearer,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const me = await currentUser(identity, request);
      await eraseUser(identity, me.id);
      return reply.code(204).send(null);
    },
  );
}
