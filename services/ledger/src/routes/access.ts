import { type CompanyAccessPolicy, refuse } from '@tessera/service-kit';

/**
 * Who may read a company's money, by the kit's one company-access policy: admins; the company's
 * current members (the `company_members` read model, from identity's member events); its own API
 * keys holding a read scope, as identity grants them. Nobody changes it over HTTP but an admin
 * (top-ups and adjustments are admin routes), so no member role or key scope writes.
 */
const readOnly = {
  writeScopes: [],
  writeRoles: [],
  writeDetail: "Only admins change a company's money.",
} satisfies Omit<CompanyAccessPolicy, 'readScopes'>;

/** A company's credits: members, and its keys with `billing:read`. */
export const creditReaders: CompanyAccessPolicy = { ...readOnly, readScopes: ['billing:read'] };

/** A campaign's budget: members, and the company's keys with `campaigns:read` or `billing:read`. */
export const budgetReaders: CompanyAccessPolicy = {
  ...readOnly,
  readScopes: ['campaigns:read', 'billing:read'],
};

/** What whoever may not see a company's money is told: what a stranger to it would be (404). */
export const companyNotFound = () => refuse.notFound('No such company.', 'COMPANY_NOT_FOUND');

/** The same answer for a campaign the ledger never heard of and one the caller may not see. */
export const campaignNotFound = () =>
  refuse.notFound('The ledger has no funding request for this campaign.', 'CAMPAIGN_NOT_FOUND');
