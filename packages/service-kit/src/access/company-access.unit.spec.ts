import { describe, it } from 'vitest';
import type { Principal } from '../http/auth.ts';
import { refuse } from '../refusal.ts';
import { decider } from '../testing/decider.ts';
import { type CompanyNeed, decideCompanyAccess, type Membership } from './company-access.ts';

const company = '0f1e2d3c-4b5a-4968-8776-655443322110';
const other = '1f1e2d3c-4b5a-4968-8776-655443322110';
const policy = {
  readScopes: ['campaigns:read'],
  writeScopes: ['campaigns:write'],
  writeRoles: ['manager'],
  writeDetail: 'Only managers may change campaigns.',
};
const hidden = refuse.notFound('No such campaign.', 'CAMPAIGN_NOT_FOUND');

const spec = decider((who: { principal: Principal; membership: Membership }, need: CompanyNeed) =>
  decideCompanyAccess(who.principal, company, who.membership, need, policy, hidden),
);
const user = (role: Principal['role']): Principal => ({ userId: other, role, tokenId: 't' });
const key = (companyId: string, scopes: string[]): Principal => ({
  userId: other,
  role: 'company',
  tokenId: 't',
  companyId,
  scopes,
});

describe('one company-access policy', () => {
  it('lets admins do everything', () => {
    spec
      .given({ principal: user('admin'), membership: null })
      .when('write')
      .then(undefined);
  });

  it('lets members read and managers write; a reader who may not write is told so (403)', () => {
    spec
      .given({ principal: user('company'), membership: { role: 'viewer' } })
      .when('read')
      .then(undefined);
    spec
      .given({ principal: user('company'), membership: { role: 'viewer' } })
      .when('write')
      .thenRefuses('FORBIDDEN', 'forbidden');
    spec
      .given({ principal: user('company'), membership: { role: 'manager' } })
      .when('write')
      .then(undefined);
  });

  it('hides the thing (404) from whoever may not read it, so existence never leaks', () => {
    spec
      .given({ principal: user('company'), membership: null })
      .when('read')
      .thenRefuses('CAMPAIGN_NOT_FOUND', 'not_found');
    spec
      .given({ principal: user('company'), membership: null })
      .when('write')
      .thenRefuses('CAMPAIGN_NOT_FOUND', 'not_found');
    // A contributor never acts for a company, even with a membership row left over.
    spec
      .given({ principal: user('contributor'), membership: { role: 'manager' } })
      .when('read')
      .thenRefuses('CAMPAIGN_NOT_FOUND');
  });

  it("lets a company's own API key act within its scopes, and never on another company", () => {
    spec
      .given({ principal: key(company, ['campaigns:read']), membership: null })
      .when('read')
      .then(undefined);
    spec
      .given({ principal: key(company, ['campaigns:read']), membership: null })
      .when('write')
      .thenRefuses('FORBIDDEN');
    spec
      .given({ principal: key(company, ['campaigns:write']), membership: null })
      .when('read')
      .then(undefined);
    spec
      .given({ principal: key(company, ['billing:read']), membership: null })
      .when('read')
      .thenRefuses('CAMPAIGN_NOT_FOUND');
    spec
      .given({ principal: key(other, ['campaigns:write']), membership: null })
      .when('read')
      .thenRefuses('CAMPAIGN_NOT_FOUND');
  });
});
