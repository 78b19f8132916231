import { isUuid } from '@tessera/service-kit';

/**
 * The chart of accounts. An account is an id from this chart plus a currency; each (id, currency)
 * is its own TigerBeetle-style account with its own stream.
 */

export const accountKinds = [
  'world',
  'company_credits',
  'campaign_budget',
  'user_available',
  'platform_revenue',
  'platform_promotions',
  'platform_quality',
] as const;
export type AccountKind = (typeof accountKinds)[number];

export interface AccountFlags {
  /** The account can never have more debits (posted + pending) than posted credits. */
  debits_must_not_exceed_credits: boolean;
  /** The account can never have more credits (posted + pending) than posted debits. */
  credits_must_not_exceed_debits: boolean;
}

export const accountIds = {
  world: 'world',
  platformRevenue: 'platform:revenue',
  platformPromotions: 'platform:promotions',
  /** Pays judges for honeypot reviews (quality control): an expense, like promotions. */
  platformQuality: 'platform:quality',
  companyCredits: (companyId: string) => `company:${companyId}:credits`,
  campaignBudget: (campaignId: string) => `campaign:${campaignId}:budget`,
  userAvailable: (userId: string) => `user:${userId}:available`,
} as const;

/** The accounts a company, a campaign or a user owns: `<owner kind>:<owner id>:<purpose>`. */
const owned: Record<string, { purpose: string; kind: AccountKind }> = {
  company: { purpose: 'credits', kind: 'company_credits' },
  campaign: { purpose: 'budget', kind: 'campaign_budget' },
  user: { purpose: 'available', kind: 'user_available' },
};

export interface AccountIdentity {
  id: string;
  kind: AccountKind;
  /** The company, campaign or user the account belongs to; null for platform accounts. */
  owner: string | null;
}

/** Parses an account id of the chart; undefined when it is not one. */
export function parseAccountId(id: string): AccountIdentity | undefined {
  if (id === accountIds.world) return { id, kind: 'world', owner: null };
  if (id === accountIds.platformRevenue) return { id, kind: 'platform_revenue', owner: null };
  if (id === accountIds.platformPromotions) return { id, kind: 'platform_promotions', owner: null };
  if (id === accountIds.platformQuality) return { id, kind: 'platform_quality', owner: null };
  const parts = id.split(':');
  if (parts.length !== 3) return undefined;
  const [ownerKind = '', owner = '', purpose] = parts;
  const account = Object.hasOwn(owned, ownerKind) ? owned[ownerKind] : undefined;
  // One spelling per id: the owner's UUID in lower case.
  if (!account || account.purpose !== purpose || !isUuid(owner) || owner !== owner.toLowerCase()) {
    return undefined;
  }
  return { id, kind: account.kind, owner };
}

/** The accounts that may have a debit balance: money entering the platform, and its expenses. */
const mayRunDebitBalance: ReadonlySet<AccountKind> = new Set([
  'world',
  'platform_promotions',
  'platform_quality',
]);

/**
 * Only `world` and the expenses (`platform:promotions`, `platform:quality`) may have a debit
 * balance; nothing else may be overdrawn.
 */
export function flagsFor(kind: AccountKind): AccountFlags {
  return {
    debits_must_not_exceed_credits: !mayRunDebitBalance.has(kind),
    credits_must_not_exceed_debits: false,
  };
}

/** The stream holding one account's entries. */
export function accountStream(accountId: string, currency: string): string {
  return `account-${accountId}@${currency}`;
}

/** The stream holding one transfer's life: created, then posted, voided or expired when pending. */
export function transferStream(transferId: string): string {
  return `transfer-${transferId}`;
}

/** The transfer whose stream this is; undefined for any other stream. */
export function transferIdOf(stream: string): string | undefined {
  return stream.startsWith('transfer-') ? stream.slice('transfer-'.length) : undefined;
}
