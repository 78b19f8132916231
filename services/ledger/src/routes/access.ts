import { HttpProblem, type Principal } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { isCompanyMember } from '../messaging/identity.ts';
import type { LedgerDB } from '../service.ts';
import { isUuid } from './schemas.ts';

/** Scopes of identity's company API keys that let a key read the company's money. */
export type CompanyReadScope = 'billing:read' | 'campaigns:read';

/**
 * Who may read a company's money: admins; current members of the company (from identity's member
 * events); and the company's own API keys holding one of `scopes`, as identity grants them.
 */
export async function assertCompanyAccess(
  db: Kysely<LedgerDB>,
  principal: Principal,
  companyId: string,
  scopes: readonly CompanyReadScope[],
): Promise<void> {
  if (principal.companyId !== undefined) {
    const ownKey = principal.companyId.toLowerCase() === companyId;
    if (ownKey && scopes.some((scope) => principal.scopes?.includes(scope))) return;
  } else {
    if (principal.role === 'admin') return;
    const userId = principal.userId.toLowerCase();
    if (isUuid(userId) && (await isCompanyMember(db, companyId, userId))) return;
  }
  throw new HttpProblem(403, 'FORBIDDEN', 'Only members of this company and admins may see this.');
}
