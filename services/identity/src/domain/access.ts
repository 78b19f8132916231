import type { Principal } from '@tessera/service-kit';
import type { ApiKeyScope } from './api-keys.ts';

export const memberRoles = ['manager', 'viewer', 'billing'] as const;
export type MemberRole = (typeof memberRoles)[number];

export interface CompanyRights {
  read: boolean;
  /** Change members and API keys. */
  manage: boolean;
}

/**
 * Only members see their company, only managers change it; admins may do everything. A company's
 * API key reads its own company when it holds the `company:read` scope, and changes nothing.
 */
export function companyRights(
  principal: Principal,
  companyId: string,
  membership: { memberRole: MemberRole } | undefined,
): CompanyRights {
  if (principal.role === 'admin' && principal.companyId === undefined) return { read: true, manage: true };
  if (principal.companyId !== undefined) {
    const scope: ApiKeyScope = 'company:read';
    return { read: principal.companyId === companyId && !!principal.scopes?.includes(scope), manage: false };
  }
  if (!membership) return { read: false, manage: false };
  return { read: true, manage: membership.memberRole === 'manager' };
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

export type StatusChange = 'suspend' | 'reinstate' | 'none';

export function statusChange(
  current: 'active' | 'suspended' | 'erased',
  target: 'active' | 'suspended',
): StatusChange | 'erased' {
  if (current === 'erased') return 'erased';
  if (current === target) return 'none';
  return target === 'suspended' ? 'suspend' : 'reinstate';
}
