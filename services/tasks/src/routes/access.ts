import { companyMemberRole, HttpProblem, type Principal } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';

export type CompanyAccess = 'read' | 'write';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Who may act on a company's campaigns and tasks: admins everywhere; the company's members (from
 * identity's member events), managers to change and any member to read; the company's own API keys
 * with the matching scope (`campaigns:write` / `tasks:write` to change, `:read` to read).
 * Contributors never. A refusal does not say whether the company exists.
 */
export async function companyAccess(
  db: Kysely<TasksDB>,
  principal: Principal,
  companyId: string,
  need: CompanyAccess,
  scopeFamily: 'campaigns' | 'tasks' = 'campaigns',
): Promise<boolean> {
  if (principal.companyId !== undefined) {
    if (principal.companyId.toLowerCase() !== companyId.toLowerCase()) return false;
    const scopes = principal.scopes ?? [];
    const wanted =
      need === 'write' ? [`${scopeFamily}:write`] : [`${scopeFamily}:read`, `${scopeFamily}:write`];
    return wanted.some((scope) => scopes.includes(scope));
  }
  if (principal.role === 'admin') return true;
  if (principal.role !== 'company' || !UUID.test(principal.userId)) return false;
  const role = await companyMemberRole(db, companyId, principal.userId.toLowerCase());
  if (role === null) return false;
  return need === 'read' || role === 'manager';
}

/**
 * Throws 404 when the caller may not even read (existence is not leaked) and 403 when it may read
 * but not write.
 */
export async function assertCompanyAccess(
  db: Kysely<TasksDB>,
  principal: Principal,
  companyId: string,
  need: CompanyAccess,
  options: { notFound: HttpProblem; scopeFamily?: 'campaigns' | 'tasks' },
): Promise<void> {
  const family = options.scopeFamily ?? 'campaigns';
  if (await companyAccess(db, principal, companyId, need, family)) return;
  if (need === 'write' && (await companyAccess(db, principal, companyId, 'read', family))) {
    throw new HttpProblem(403, 'FORBIDDEN', 'Only managers of this company and admins may change this.');
  }
  throw options.notFound;
}

/** The companies a company user belongs to, for listing "my campaigns". */
export async function companiesOf(db: Kysely<TasksDB>, principal: Principal): Promise<string[]> {
  if (principal.companyId !== undefined) return [principal.companyId.toLowerCase()];
  if (!UUID.test(principal.userId)) return [];
  const rows = await db
    .selectFrom('company_members')
    .select('company_id')
    .where('user_id', '=', principal.userId.toLowerCase())
    .where('removed', '=', false)
    .execute();
  return rows.map((row) => row.company_id);
}
