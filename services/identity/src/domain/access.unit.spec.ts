import type { CompanyNeed, Principal } from '@tessera/service-kit';
import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import {
  companyRights,
  decideCompanyRights,
  leavesNoManager,
  type MemberRole,
  statusChange,
} from './access.ts';

const user = (role: Principal['role'] = 'company'): Principal => ({ userId: 'u1', role, tokenId: 'j' });

describe('company rights', () => {
  it('members read, managers manage, others nothing, admins everything', () => {
    expect(companyRights(user(), 'c1', undefined)).toEqual({ read: false, manage: false });
    expect(companyRights(user(), 'c1', { memberRole: 'viewer' })).toEqual({ read: true, manage: false });
    expect(companyRights(user(), 'c1', { memberRole: 'billing' })).toEqual({ read: true, manage: false });
    expect(companyRights(user(), 'c1', { memberRole: 'manager' })).toEqual({ read: true, manage: true });
    expect(companyRights(user('admin'), 'c1', undefined)).toEqual({ read: true, manage: true });
    expect(companyRights(user('contributor'), 'c1', undefined)).toEqual({ read: false, manage: false });
  });

  it('an API key reads its own company with company:read, and never manages', () => {
    const key = (scopes: string[], companyId = 'c1'): Principal => ({ ...user(), companyId, scopes });
    expect(companyRights(key(['company:read']), 'c1', undefined)).toEqual({ read: true, manage: false });
    expect(companyRights(key(['tasks:read']), 'c1', undefined)).toEqual({ read: false, manage: false });
    expect(companyRights(key(['company:read'], 'c2'), 'c1', undefined)).toEqual({
      read: false,
      manage: false,
    });
    expect(companyRights({ ...key(['company:read']), role: 'admin' }, 'c1', undefined).manage).toBe(false);
  });
});

describe('company access refusals', () => {
  const access = decider(
    (membership: { memberRole: MemberRole } | undefined, ask: { principal: Principal; need: CompanyNeed }) =>
      decideCompanyRights(ask.principal, 'c1', membership, ask.need),
  );

  it('hides the company (404 COMPANY_NOT_FOUND) from whoever may not read it', () => {
    access
      .given(undefined)
      .when({ principal: user(), need: 'read' })
      .thenRefuses('COMPANY_NOT_FOUND', 'not_found');
    access
      .given(undefined)
      .when({ principal: user('contributor'), need: 'write' })
      .thenRefuses('COMPANY_NOT_FOUND', 'not_found');
    access
      .given(undefined)
      .when({ principal: { ...user(), companyId: 'c2', scopes: ['company:read'] }, need: 'read' })
      .thenRefuses('COMPANY_NOT_FOUND', 'not_found');
  });

  it("tells a member who may only read that changing is a manager's (403 COMPANY_MANAGER_REQUIRED)", () => {
    access
      .given({ memberRole: 'viewer' })
      .when({ principal: user(), need: 'write' })
      .thenRefuses('COMPANY_MANAGER_REQUIRED', 'forbidden');
    access
      .given(undefined)
      .when({ principal: { ...user(), companyId: 'c1', scopes: ['company:read'] }, need: 'write' })
      .thenRefuses('COMPANY_MANAGER_REQUIRED', 'forbidden');
    access.given({ memberRole: 'manager' }).when({ principal: user(), need: 'write' }).then(undefined);
    access.given({ memberRole: 'billing' }).when({ principal: user(), need: 'read' }).then(undefined);
  });
});

describe('the last manager', () => {
  const members = [
    { userId: 'a', memberRole: 'manager' as const },
    { userId: 'b', memberRole: 'viewer' as const },
  ];
  it('may not leave nor be demoted; others may', () => {
    expect(leavesNoManager(members, 'a', undefined)).toBe(true);
    expect(leavesNoManager(members, 'a', 'viewer')).toBe(true);
    expect(leavesNoManager(members, 'b', undefined)).toBe(false);
    expect(leavesNoManager(members, 'a', 'manager')).toBe(false);
    expect(leavesNoManager([...members, { userId: 'c', memberRole: 'manager' }], 'a', undefined)).toBe(false);
  });
});

describe('status changes', () => {
  it('suspend, reinstate, no-op, and never an erased account', () => {
    expect(statusChange('active', 'suspended')).toBe('suspend');
    expect(statusChange('suspended', 'active')).toBe('reinstate');
    expect(statusChange('active', 'active')).toBe('none');
    expect(statusChange('erased', 'active')).toBe('erased');
  });
});
