import { buildEvent } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/service-kit';
import { sql } from 'kysely';
import { LoginThrottle } from '../auth/login-throttle.ts';
import { companiesOf, deleteMemberships, listMembers } from '../db/companies.ts';
import { scrubInvitationsOf } from '../db/invitations.ts';
import { revokeUserSessions } from '../db/sessions.ts';
import { findUserById, updateUser } from '../db/users.ts';
import { lastManagerOf, leavesNoManager } from '../domain/access.ts';
import type { Identity } from '../runtime.ts';

/**
 * Erasure (GDPR art. 17): the account row stays, as a pseudonymous id that past events and other
 * services' records point at, but everything personal is removed; sessions end, memberships go
 * (each announced), invitations lose the address (open ones are revoked), and
 * `identity.user.erased.v1` tells every service to scrub what it holds.
 * A company's last manager is refused (409 `LAST_MANAGER`) until they hand over.
 * Returns false when there was nothing left to erase.
 */
export async function eraseUser(identity: Identity, userId: string): Promise<boolean> {
  return identity.db.transaction().execute(async (trx) => {
    // Locks in the order every company change takes them: the account, then its companies'
    // members (in one fixed order), then the rest. Company changes and acceptances lock their
    // caller's account first too (`lockedCompanyAccess`, acceptance), so none of them can wait
    // for this account while holding a company's members lock this erasure waits for.
    const user = await findUserById(trx, userId, { forUpdate: true });
    if (!user || user.status === 'erased') return false;
    for (const company of await companiesOf(trx, userId)) {
      const members = await listMembers(trx, company.id, { lock: true });
      const current = members.map((m) => ({ userId: m.user_id, memberRole: m.member_role }));
      if (leavesNoManager(current, userId, undefined)) throw lastManagerOf(company.name);
    }
    const now = identity.clock();
    await updateUser(trx, userId, {
      email: null,
      password_hash: null,
      full_name: null,
      status: 'erased',
      suspension_reason: null,
      suspension_reason_code: null,
      bio: null,
      location: null,
      country: null,
      preferred_language: null,
      languages: [],
      avatar_url: null,
      last_login_at: null,
      updated_at: now,
      erased_at: now,
    });
    await scrubInvitationsOf(trx, user, now);
    await revokeUserSessions(trx, userId, 'erased', now, identity.config.ACCESS_TOKEN_TTL_S);
    await sql`delete from refresh_tokens where session_id in (select id from sessions where user_id = ${userId})`.execute(
      trx,
    );
    await trx.deleteFrom('one_time_codes').where('user_id', '=', userId).execute();
    if (user.email) {
      await trx
        .deleteFrom('login_throttle')
        .where('key', '=', LoginThrottle.accountKey(user.email))
        .execute();
      await trx
        .deleteFrom('dev_mailbox')
        .where(sql<string>`lower(recipient)`, '=', user.email.toLowerCase())
        .execute();
    }
    const companies = await deleteMemberships(trx, userId);
    await appendToOutbox(trx, [
      ...companies.map((companyId) =>
        buildEvent(
          'identity.company.member-removed.v1',
          { company_id: companyId, user_id: userId },
          { subject: companyId },
        ),
      ),
      buildEvent('identity.user.erased.v1', { user_id: userId }, { subject: userId }),
    ]);
    return true;
  });
}
