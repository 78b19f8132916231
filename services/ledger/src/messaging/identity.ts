import type { HandlerMap } from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { LedgerDB } from '../service.ts';

/**
 * Who belongs to which company, for authorising reads of company credits and campaign budgets.
 * Removals are kept as tombstones and every row remembers the time of the event it reflects, so an
 * event handled late (after a retry) never undoes a newer one.
 */
export function identityHandlers(): HandlerMap<LedgerDB> {
  return {
    'identity.company.member-added.v1': async (event, trx) => {
      await setMembership(trx, {
        company_id: event.data.company_id,
        user_id: event.data.user_id,
        member_role: event.data.member_role,
        removed: false,
        changed_at: event.time,
      });
    },
    'identity.company.member-removed.v1': async (event, trx) => {
      await setMembership(trx, {
        company_id: event.data.company_id,
        user_id: event.data.user_id,
        member_role: null,
        removed: true,
        changed_at: event.time,
      });
    },
  };
}

async function setMembership(
  trx: Transaction<LedgerDB>,
  row: {
    company_id: string;
    user_id: string;
    member_role: string | null;
    removed: boolean;
    changed_at: string;
  },
): Promise<void> {
  await trx
    .insertInto('company_members')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['company_id', 'user_id'])
        .doUpdateSet((eb) => ({
          member_role: eb.ref('excluded.member_role'),
          removed: eb.ref('excluded.removed'),
          changed_at: eb.ref('excluded.changed_at'),
        }))
        .whereRef('company_members.changed_at', '<=', 'excluded.changed_at'),
    )
    .execute();
}

/** Whether `userId` is a current member of `companyId`. */
export async function isCompanyMember(
  db: Kysely<LedgerDB>,
  companyId: string,
  userId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('company_members')
    .select('user_id')
    .where('company_id', '=', companyId)
    .where('user_id', '=', userId)
    .where('removed', '=', false)
    .executeTakeFirst();
  return row !== undefined;
}
