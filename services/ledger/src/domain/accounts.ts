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
  companyCredits: (companyId: string) => `company:${companyId}:credits`,
  campaignBudget: (campaignId: string) => `campaign:${campaignId}:budget`,
  userAvailable: (userId: string) => `user:${userId}:available`,
} as const;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const owned: [RegExp, AccountKind][] = [
  [new RegExp(`^company:(${UUID}):credits$`), 'company_credits'],
  [new RegExp(`^campaign:(${UUID}):budget$`), 'campaign_budget'],
  [new RegExp(`^user:(${UUID}):available$`), 'user_available'],
];

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
  for (const [pattern, kind] of owned) {
    const match = pattern.exec(id);
    if (match) return { id, kind, owner: match[1] ?? null };
  }
  return undefined;
}

/** Only `world` and `platform:promotions` may have a debit balance; nothing else may be overdrawn. */
export function flagsFor(kind: AccountKind): AccountFlags {
  return {
    debits_must_not_exceed_credits: kind !== 'world' && kind !== 'platform_promotions',
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
