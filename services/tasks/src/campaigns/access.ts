import type { CompanyAccessPolicy } from '@tessera/service-kit';

/** Who may read and change a company's campaigns (the kit's one company-access rule). */
export const campaignAccess: CompanyAccessPolicy = {
  readScopes: ['campaigns:read'],
  writeScopes: ['campaigns:write'],
  writeRoles: ['manager'],
  writeDetail: 'Only managers of this company and admins may change this.',
};
