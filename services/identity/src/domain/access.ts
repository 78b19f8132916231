import {
  type CompanyAccessPolicy,
  type CompanyNeed,
  type Decision,
  decideCompanyAccess,
  type Principal,
  refuse,
  refusal,
  reject,
} from '@tessera/service-kit';
import type { ApiKeyScope } from './api-keys.ts';

export const memberRoles = ['manager', 'viewer', 'billing'] as const;
export type MemberRole = (typeof memberRoles)[number];

export interface CompanyRights {
  read: boolean;
  /** Change members and API keys. */
  manage: boolean;
}

const companyReadScope: ApiKeyScope = 'company:read';

/**
 * Who may see and change a company itself (its members and API keys), as the kit's one
 * company-access policy: admins everything; members read, managers change; the company's own API
 * keys read with `company:read` and change nothing.
 */
export const companyPolicy: CompanyAccessPolicy = {
  readScopes: [companyReadScope],
  writeScopes: [],
  writeRoles: ['manager'] satisfies MemberRole[],
  writeDetail: "Only the company's managers may do this.",
};

/** What whoever may not see a company is told: the same as for a company that does not exist. */
export const companyNotFound = () => refuse.notFound('No such company.', 'COMPANY_NOT_FOUND');

/**
 * May `principal` read (`need` read) or change (`need` write) the company, given their membership
 * in it? Refuses 404 `COMPANY_NOT_FOUND` to whoever may not even read it (its existence is not
 * disclosed) and 403 `COMPANY_MANAGER_REQUIRED` to a reader who may not change it.
 */
export function decideCompanyRights(
  principal: Principal,
  companyId: string,
  membership: { memberRole: MemberRole } | undefined,
  need: CompanyNeed,
): Decision<void> {
  const decision = decideCompanyAccess(
    principal,
    companyId,
    membership ? { role: membership.memberRole } : null,
    need,
    companyPolicy,
    companyNotFound(),
  );
  if (decision.ok || decision.refusal.kind !== 'forbidden') return decision;
  return reject(refusal('forbidden', 'COMPANY_MANAGER_REQUIRED', decision.refusal.detail));
}

/** Whether `principal` may read and whether they may manage the company (`decideCompanyRights`). */
export function companyRights(
  principal: Principal,
  companyId: string,
  membership: { memberRole: MemberRole } | undefined,
): CompanyRights {
  return {
    read: decideCompanyRights(principal, companyId, membership, 'read').ok,
    manage: decideCompanyRights(principal, companyId, membership, 'write').ok,
  };
}

/** Whether changing (or removing, `newRole` undefined) one member leaves the company without a manager. */
export function leavesNoManager(
  members: ReadonlyArray<{ userId: string; memberRole: MemberRole }>,
  userId: string,
  newRole: MemberRole | undefined,
): boolean {
  const managersAfter = members.filter((m) =>
    m.userId === userId ? newRole === 'manager' : m.memberRole === 'manager',
  );
  const wasManager = members.some((m) => m.userId === userId && m.memberRole === 'manager');
  return wasManager && managersAfter.length === 0;
}

/** What the last manager of a company is told when leaving, being demoted or erasing the account. */
export const lastManagerOf = (company?: string) =>
  refuse.conflict(
    'LAST_MANAGER',
    company
      ? `You are the last manager of ${company}: make another member a manager first.`
      : 'A company keeps at least one manager.',
  );

export type StatusChange = 'suspend' | 'reinstate' | 'none';

export function statusChange(
  current: 'active' | 'suspended' | 'erased',
  target: 'active' | 'suspended',
): StatusChange | 'erased' {
  if (current === 'erased') return 'erased';
  if (current === target) return 'none';
  return target === 'suspended' ? 'suspend' : 'reinstate';
}
