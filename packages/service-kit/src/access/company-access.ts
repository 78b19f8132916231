import type { Principal } from '../http/auth.ts';
import { isUuid } from '../http/schemas.ts';
import { findCompanyMembership } from '../read-models/company-members.ts';
import { type Decision, type Refusal, accept, refuse, reject } from '../refusal.ts';
import type { AnyDatabase } from '../db/kit-migrations.ts';

export type CompanyNeed = 'read' | 'write';

/** Who may read and who may change one kind of a company's things (campaigns, money, members). */
export interface CompanyAccessPolicy {
  /** Scopes of the company's own API keys that let a key read; a write scope also reads. */
  readScopes: readonly string[];
  writeScopes: readonly string[];
  /** Member roles that may change; every current member may read. */
  writeRoles: readonly string[];
  /** What changing needs, in words, for the 403 of a member who may only read. */
  writeDetail: string;
  /** The code of that 403 (default `FORBIDDEN`). */
  writeCode?: string;
}

/** What the service knows of the caller's membership: a role, or null when not a current member. */
export type Membership = { role: string | null } | null;

/**
 * One rule for every service: admins may do everything; the company's current members may read,
 * and those with a write role may change; the company's own API keys act within their scopes; a
 * contributor or a stranger never. Whoever may not even read gets `hidden` (a 404 that does not
 * say whether the company's thing exists); a reader who may not change gets a 403.
 */
export function decideCompanyAccess(
  principal: Principal,
  companyId: string,
  membership: Membership,
  need: CompanyNeed,
  policy: CompanyAccessPolicy,
  hidden: Refusal,
): Decision<void> {
  const company = companyId.toLowerCase();
  let mayRead: boolean;
  let mayWrite: boolean;
  if (principal.companyId !== undefined) {
    const own = principal.companyId.toLowerCase() === company;
    const scopes = principal.scopes ?? [];
    mayWrite = own && policy.writeScopes.some((scope) => scopes.includes(scope));
    mayRead = mayWrite || (own && policy.readScopes.some((scope) => scopes.includes(scope)));
  } else if (principal.role === 'admin') {
    mayRead = mayWrite = true;
  } else {
    mayRead = principal.role === 'company' && membership !== null;
    mayWrite = mayRead && membership?.role != null && policy.writeRoles.includes(membership.role);
  }
  if (need === 'read' ? mayRead : mayWrite) return accept(undefined);
  if (mayRead) return reject(refuse.forbidden(policy.writeDetail, policy.writeCode));
  return reject(hidden);
}

/**
 * `decideCompanyAccess` against the service's company-members read model (from identity's member
 * events); throws the refusal.
 */
export async function assertCompanyAccess(
  db: AnyDatabase,
  principal: Principal,
  companyId: string,
  need: CompanyNeed,
  policy: CompanyAccessPolicy,
  hidden: Refusal,
): Promise<void> {
  const membership = await companyMembershipOf(db, principal, companyId);
  const decision = decideCompanyAccess(principal, companyId, membership, need, policy, hidden);
  if (!decision.ok) throw decision.refusal;
}

/**
 * The caller's membership of a company from the read model: only a company user (not an API key,
 * not an admin, not a contributor) has one; null when not a current member.
 */
export async function companyMembershipOf(
  db: AnyDatabase,
  principal: Principal,
  companyId: string,
): Promise<Membership> {
  if (principal.companyId !== undefined || principal.role !== 'company') return null;
  if (!isUuid(principal.userId) || !isUuid(companyId)) return null;
  return findCompanyMembership(db, companyId.toLowerCase(), principal.userId.toLowerCase());
}
