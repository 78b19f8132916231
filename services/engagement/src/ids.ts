import { v5 as uuidv5 } from 'uuid';

/**
 * The namespace of engagement's derived ids. Fixed forever: a bonus id derived from what earned
 * it (a badge unlock, a mission completion) is the ledger's idempotency key, so the same cause
 * must always name the same bonus, whatever replays happen.
 */
const ENGAGEMENT_ID_NAMESPACE = '0b9d5e1c-3f47-4a3e-9a55-7f2d3c1e8b64';

/** A stable id for a named cause, e.g. derivedId('badge-bonus', userId, badgeId). */
export function derivedId(kind: string, ...parts: string[]): string {
  return uuidv5([kind, ...parts.map((part) => part.toLowerCase())].join(':'), ENGAGEMENT_ID_NAMESPACE);
}
