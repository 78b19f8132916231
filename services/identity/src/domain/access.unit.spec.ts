import type { Principal } from '@tessera/service-kit';
import { describe, expect, it } from 'vitest';
import { companyRights, leavesNoManager, statusChange } from './access.ts';

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
