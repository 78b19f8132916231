import { companyMemberHandlers, type HandlerMap } from '@tessera/service-kit';
import { sql, type Transaction } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { defaultStanding, primaryLanguage } from '../domain/eligibility.ts';

type Trx = Transaction<TasksDB>;

/**
 * The identity half of the eligibility read model (role, status, country, languages) and who
 * belongs to which company. Each row remembers the time of the event it reflects, per source
 * (profile: `identity_changed_at`, account status: `status_changed_at`), so an event handled late
 * (after a retry) never undoes a newer one. Erasure is final: nothing revives an erased user.
 */
export function identityHandlers(): HandlerMap<TasksDB> {
  return {
    'identity.user.registered.v1': async (event, trx) => {
      await setProfile(trx, event.data.user_id, event.time, {
        country: event.data.country,
        languages: event.data.languages,
      });
      // A role never changes, so a registration handled after a newer event still records it.
      await trx
        .updateTable('contributors')
        .set({ role: event.data.role })
        .where('user_id', '=', event.data.user_id)
        .where('role', 'is', null)
        .execute();
    },
    'identity.user.profile-updated.v1': async (event, trx) => {
      await setProfile(trx, event.data.user_id, event.time, {
        country: event.data.country,
        languages: event.data.languages,
      });
    },
    'identity.user.suspended.v1': async (event, trx) => {
      await setStatus(trx, event.data.user_id, event.time, 'suspended');
      await endOpenClaims(trx, event.data.user_id, event.time);
    },
    'identity.user.reinstated.v1': async (event, trx) => {
      await setStatus(trx, event.data.user_id, event.time, 'active');
    },
    'identity.user.erased.v1': async (event, trx) => {
      const userId = event.data.user_id;
      // Scrub what the read model holds about the person; the row stays as a tombstone that
      // makes every later claim fail and keeps older events from reviving the user.
      await trx
        .insertInto('contributors')
        .values({
          ...newContributor(userId),
          status: 'erased',
          country: null,
          languages: [],
          identity_changed_at: event.time,
          status_changed_at: event.time,
        })
        .onConflict((oc) =>
          oc.column('user_id').doUpdateSet({
            status: 'erased',
            country: null,
            languages: [],
            identity_changed_at: sql`greatest(contributors.identity_changed_at, excluded.identity_changed_at)`,
            status_changed_at: sql`greatest(contributors.status_changed_at, excluded.status_changed_at)`,
          }),
        )
        .execute();
      await trx.deleteFrom('campaign_invitations').where('user_id', '=', userId).execute();
      await endOpenClaims(trx, userId, event.time);
    },
    // Who may act for which company (routes/access.ts).
    ...companyMemberHandlers<TasksDB>(),
  };
}

/** A row for a user the read model has not heard of: the defaults eligibility assumes. */
export function newContributor(userId: string) {
  return {
    user_id: userId,
    status: defaultStanding.status,
    level: defaultStanding.level,
    trust_score: defaultStanding.trust_score,
  };
}

/** Languages as eligibility compares them: primary subtags, lower case, each once. */
export function normaliseLanguages(tags: readonly string[]): string[] {
  return [...new Set(tags.map(primaryLanguage))];
}

async function setProfile(
  trx: Trx,
  userId: string,
  at: string,
  profile: { country: string | null; languages: readonly string[] },
): Promise<void> {
  const values = { country: profile.country, languages: normaliseLanguages(profile.languages) };
  await trx
    .insertInto('contributors')
    .values({ ...newContributor(userId), ...values, identity_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet((eb) => ({
          country: eb.ref('excluded.country'),
          languages: eb.ref('excluded.languages'),
          identity_changed_at: eb.ref('excluded.identity_changed_at'),
        }))
        .where((eb) =>
          eb.and([
            eb('contributors.status', '!=', 'erased'),
            eb.or([
              eb('contributors.identity_changed_at', 'is', null),
              eb('contributors.identity_changed_at', '<=', eb.ref('excluded.identity_changed_at')),
            ]),
          ]),
        ),
    )
    .execute();
}

async function setStatus(
  trx: Trx,
  userId: string,
  at: string,
  status: 'active' | 'suspended',
): Promise<void> {
  await trx
    .insertInto('contributors')
    .values({ ...newContributor(userId), status, status_changed_at: at })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          status_changed_at: eb.ref('excluded.status_changed_at'),
        }))
        .where((eb) =>
          eb.and([
            eb('contributors.status', '!=', 'erased'),
            eb.or([
              eb('contributors.status_changed_at', 'is', null),
              eb('contributors.status_changed_at', '<=', eb.ref('excluded.status_changed_at')),
            ]),
          ]),
        ),
    )
    .execute();
}

/**
 * A suspended or erased contributor's open claims stop holding slots and budget: they are made
 * due now, and the expiry job frees them (reason `account_not_active`) with the same locking as any
 * expiry. Submitted work is left to submissions and QC to judge.
 */
async function endOpenClaims(trx: Trx, userId: string, at: string): Promise<void> {
  await trx
    .updateTable('assignments')
    .set({ expires_at: sql`least(expires_at, ${new Date(at)}::timestamptz)` })
    .where('contributor_id', '=', userId)
    .where('status', '=', 'active')
    .execute();
}
