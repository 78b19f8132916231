import { companyMemberHandlers, type HandlerMap } from '@tessera/service-kit';
import type { LedgerDB } from '../service.ts';

/**
 * Who belongs to which company, for authorising reads of company credits and campaign budgets.
 * Removals are kept as tombstones and every row remembers the time of the event it reflects, so an
 * event handled late (after a retry) never undoes a newer one.
 */
export function identityHandlers(): HandlerMap<LedgerDB> {
  return companyMemberHandlers<LedgerDB>();
}
