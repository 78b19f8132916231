// No vitest here: `pnpm authz:docs` reads this outside a test run.

export const ROLES = [
  'anonymous',
  'contributor',
  'otherContributor',
  'judge',
  'manager',
  'viewer',
  'otherCompany',
  'apiKey',
  'apiKeyNoScope',
  'suspended',
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_TITLES: Record<Role, string> = {
  anonymous: 'anonymous',
  contributor: 'contributor (owner)',
  otherContributor: 'another contributor',
  judge: 'judge',
  manager: 'company manager',
  viewer: 'company viewer',
  otherCompany: 'another company',
  apiKey: 'API key (all scopes)',
  apiKeyNoScope: 'API key (company:read only)',
  suspended: 'suspended user',
  admin: 'admin',
};

/**
 * What a cell of the matrix expects:
 * - `allow`: past authorization: a 2xx, or a domain answer about the thing itself (409, 410, 422, ...);
 * - `missing`: past authorization, and a 404 because the fixture asks about an id nobody has;
 * - `hidden`: refused with a 404 that does not say whether the thing exists;
 * - `401`: not authenticated (no token, or a revoked one);
 * - `403`: authenticated, not allowed.
 */
export type Outcome = 'allow' | 'missing' | 'hidden' | '401' | '403';

export interface Defect {
  /** What the platform answers today. */
  actual: Outcome;
  note: string;
}

export interface Row {
  service: string;
  method: string;
  path: string;
  cells: Record<Role, Outcome>;
  note?: string;
  /** Cells where the platform answers otherwise than it should (`cells` holds what it should). */
  defects?: Partial<Record<Role, Defect>>;
  /** Cells not asked, and why. */
  unchecked?: Partial<Record<Role, string>>;
}

export const routeKey = (row: { method: string; path: string }) => `${row.method} ${row.path}`;

/** The codes of the 404 with which a company's things are hidden from whoever may not read them. */
export const HIDING_CODES = new Set(['COMPANY_NOT_FOUND', 'CAMPAIGN_NOT_FOUND']);
/** 404s that are a domain answer to an allowed caller, not about an id (an empty review queue, a provider's webhook not set up). */
export const DOMAIN_404_CODES = new Set(['NO_REVIEW_AVAILABLE', 'NOTIFICATIONS_OFF']);

/**
 * The outcome class of an answer. A 400 counts as past authorization only with a domain code (a
 * `VALIDATION_FAILED` comes after authentication and the role check but before a handler's own
 * ownership checks, so it proves nothing about them); a 404 is `missing` only when it is about the id
 * asked for, not the company's or campaign's hiding 404.
 */
export function classOf(
  status: number,
  code: string | undefined,
  expected: Outcome,
): Outcome | `other ${number}` {
  if (status === 401) return '401';
  if (status === 403) return '403';
  if (status === 404) {
    if (code !== undefined && DOMAIN_404_CODES.has(code)) return 'allow';
    if (expected === 'missing') return code !== undefined && HIDING_CODES.has(code) ? 'hidden' : 'missing';
    return expected === 'hidden' ? 'hidden' : 'missing';
  }
  if (status >= 200 && status < 400) return 'allow';
  if (status >= 500 || (status === 400 && (code === undefined || code === 'VALIDATION_FAILED'))) {
    return `other ${status}`;
  }
  return 'allow';
}
