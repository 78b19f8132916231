import {
  type CompanyAccessPolicy,
  decideCompanyAccess,
  type Membership,
  type Principal,
} from '@tessera/service-kit';
import { decider } from '@tessera/service-kit/testing';
import { describe, it } from 'vitest';
import { budgetReaders, campaignNotFound, companyNotFound, creditReaders } from './access.ts';

const company = '0c0c0c0c-0000-4000-8000-000000000001';
const person = (role: Principal['role'] = 'company'): Principal => ({
  userId: '05e05e05-0000-4000-8000-000000000003',
  role,
  tokenId: 'j',
});
const key = (scopes: string[], companyId = company): Principal => ({ ...person(), companyId, scopes });

/** Who may read a company's money under `policy`, given the caller's membership. */
const reads = (policy: CompanyAccessPolicy, hidden: () => ReturnType<typeof companyNotFound>) =>
  decider((membership: Membership, principal: Principal) =>
    decideCompanyAccess(principal, company, membership, 'read', policy, hidden()),
  );

describe("who reads a company's money", () => {
  const credits = reads(creditReaders, companyNotFound);
  const budget = reads(budgetReaders, campaignNotFound);

  it('admins and current members in any role read credits and budgets', () => {
    credits.given(null).when(person('admin')).then(undefined);
    credits.given({ role: 'billing' }).when(person()).then(undefined);
    credits.given({ role: null }).when(person()).then(undefined);
    budget.given({ role: 'viewer' }).when(person()).then(undefined);
  });

  it("hides the company's credits (404 COMPANY_NOT_FOUND) from a stranger, a contributor, another company's key", () => {
    credits.given(null).when(person()).thenRefuses('COMPANY_NOT_FOUND', 'not_found');
    credits.given(null).when(person('contributor')).thenRefuses('COMPANY_NOT_FOUND', 'not_found');
    credits
      .given(null)
      .when(key(['billing:read'], '0c0c0c0c-0000-4000-8000-00000000000f'))
      .thenRefuses('COMPANY_NOT_FOUND');
  });

  it('hides a campaign budget (404 CAMPAIGN_NOT_FOUND) as if the campaign did not exist', () => {
    budget.given(null).when(person()).thenRefuses('CAMPAIGN_NOT_FOUND', 'not_found');
    budget
      .given(null)
      .when(key(['tasks:read']))
      .thenRefuses('CAMPAIGN_NOT_FOUND', 'not_found');
  });

  it("lets the company's own keys read with their scopes: billing:read credits; campaigns:read budgets only", () => {
    credits
      .given(null)
      .when(key(['billing:read']))
      .then(undefined);
    credits
      .given(null)
      .when(key(['campaigns:read', 'company:read']))
      .thenRefuses('COMPANY_NOT_FOUND');
    budget
      .given(null)
      .when(key(['campaigns:read']))
      .then(undefined);
    budget
      .given(null)
      .when(key(['billing:read']))
      .then(undefined);
  });
});
