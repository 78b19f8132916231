import { companyMemberHandlers, companyMemberRole, type HandlerMap } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { LedgerDB } from '../service.ts';

/**
 * Who belongs to which company, for authorising reads of company credits and campaign budgets.
 * Removals are kept as tombstones and every row remembers the time of the event it reflects, so an
 * event handled late (after a retry) never undoes a newer one.
 */
export function identityHandlers(): HandlerMap<LedgerDB> {
  return companyMemberHandlers<LedgerDB>();
}

/** Whether `userId` is a current member of `companyId`. */
export async function isCompanyMember(
  db: Kysely<LedgerDB>,
  companyId: string,
  userId: string,
): Promise<boolean> {
  return (await companyMemberRole(db, companyId, userId)) !== null;
}
