import type { CompanyAccessPolicy } from '@tessera/service-kit';

/** Who may read and change a company's tasks (the kit's one company-access rule). */
export const taskAccess: CompanyAccessPolicy = {
  readScopes: ['tasks:read'],
  writeScopes: ['tasks:write'],
  writeRoles: ['manager'],
  writeDetail: 'Only managers of this company and admins may change this.',
};
