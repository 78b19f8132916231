/**
 * Who may do a task: the rules the feed applies in SQL (feed/repository.ts) and a claim checks
 * here, for one contributor and one task. A contributor the read model has not heard of yet gets
 * the defaults: active, level 1, trust 5.0, no languages, no country.
 */
export interface ContributorStanding {
  status: 'active' | 'suspended' | 'erased';
  level: number;
  trust_score: number;
  languages: readonly string[];
  country: string | null;
}

export const defaultStanding: ContributorStanding = {
  status: 'active',
  level: 1,
  trust_score: 5.0,
  languages: [],
  country: null,
};

/**
 * The trust a task asks for when its publisher says nothing. Trust starts at 5.0 and a rejection
 * costs 0.15 (engagement's standing/trust.ts): at 5.0, one rejected first hand-in shut a newcomer out
 * of every default task for good (no task left to earn trust back with; a chaos run saw 390 of 1,000
 * claims refused TRUST_TOO_LOW). At 3.0, a contributor is shut out only after about a dozen more
 * rejections than an approval rate of 75 % would earn; publishers may still ask for more.
 */
export const DEFAULT_MIN_TRUST_SCORE = 3;

export interface TaskRequirements {
  min_level: number;
  min_trust_score: number;
  /** Empty: any language; otherwise the contributor must speak at least one. */
  required_languages: readonly string[];
  /** Empty: anywhere; otherwise the contributor's country must be one of them. */
  regions: readonly string[];
  /** Private campaigns: only invited contributors. */
  is_private: boolean;
}

export type IneligibleReason =
  | 'ACCOUNT_NOT_ACTIVE'
  | 'LEVEL_TOO_LOW'
  | 'TRUST_TOO_LOW'
  | 'LANGUAGE_MISMATCH'
  | 'REGION_MISMATCH'
  | 'NOT_INVITED';

/** Languages match on their primary subtag, case-insensitively: `es-MX` speaks `es`. */
export function primaryLanguage(tag: string): string {
  return (tag.split('-')[0] ?? tag).toLowerCase();
}

/**
 * Languages as eligibility compares them: primary subtags, lower case, each once, in first-seen
 * order (`es-MX`, `ES` → `es`). Tasks and the read model both store them so, and the feed matches
 * them with a plain array overlap.
 */
export function normaliseLanguages(tags: readonly string[]): string[] {
  return [...new Set(tags.map(primaryLanguage))];
}

/** Every reason the contributor may not do the task; empty when it may. */
export function ineligibility(
  who: ContributorStanding,
  task: TaskRequirements,
  invited: boolean,
): IneligibleReason[] {
  const reasons: IneligibleReason[] = [];
  if (who.status !== 'active') reasons.push('ACCOUNT_NOT_ACTIVE');
  if (who.level < task.min_level) reasons.push('LEVEL_TOO_LOW');
  if (who.trust_score < task.min_trust_score) reasons.push('TRUST_TOO_LOW');
  if (task.required_languages.length > 0) {
    const spoken = new Set(who.languages.map(primaryLanguage));
    if (!task.required_languages.some((tag) => spoken.has(primaryLanguage(tag))))
      reasons.push('LANGUAGE_MISMATCH');
  }
  if (task.regions.length > 0 && (who.country === null || !task.regions.includes(who.country))) {
    reasons.push('REGION_MISMATCH');
  }
  if (task.is_private && !invited) reasons.push('NOT_INVITED');
  return reasons;
}
