import { isUuid, opaqueCursor } from '@tessera/service-kit';
import { z } from 'zod';
import { priorityScore } from './score.ts';

/**
 * The two task lists' cursors (the kit's opaque cursors), one kind per ordering:
 * - the feed: (priority_score, id) of the last task shown, both descending;
 * - a campaign's task list: (created_at, id) of the last task shown, newest first. created_at is
 *   kept to the microsecond, as Postgres has it: the kit's (created_at, id) cursor keeps a JS Date.
 * Each carries its kind, so a cursor of one list is refused by the other. Anything that does not
 * decode to a cursor we issued is refused (null), never passed to SQL.
 *
 * Scores move: a claim lowers a task's score, an edit of its reward or priority changes it. A
 * keyset cursor on a moving key cannot promise a perfectly stable walk: between two pages a task
 * may move above the cursor (and not be shown) or below it (and be shown again). Nothing is ever
 * shown twice within one page, and when nothing changes every eligible task is shown exactly once.
 */

export interface FeedPosition {
  score: number;
  id: string;
}

export interface ListPosition {
  /** created_at as Postgres keeps it, to the microsecond (ISO, UTC): a JS Date would drop them. */
  at: string;
  id: string;
}

/** Ids as we hand them out: lower-case UUIDs. */
const issuedId = z.string().refine((id) => isUuid(id) && id === id.toLowerCase());

/**
 * The highest score a task can have: a priority task with every slot free and the largest reward
 * the API takes (money is at most Number.MAX_SAFE_INTEGER minor units).
 */
export const MAX_FEED_SCORE = priorityScore({
  is_priority: true,
  slots_taken: 0,
  max_submissions: 1,
  reward_amount: Number.MAX_SAFE_INTEGER,
});

/** Scores are doubles; JSON keeps every finite double exactly (shortest round-trip form). */
const feedCursor = opaqueCursor(
  z.object({ k: z.literal('feed'), s: z.number().min(0).max(MAX_FEED_SCORE), i: issuedId }),
);

const listCursor = opaqueCursor(
  z.object({
    k: z.literal('list'),
    t: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
      .refine((t) => !Number.isNaN(Date.parse(t))),
    i: issuedId,
  }),
);

export function encodeFeedCursor(position: FeedPosition): string {
  return feedCursor.encode({ k: 'feed', s: position.score, i: position.id });
}

export function decodeFeedCursor(cursor: string): FeedPosition | null {
  const value = feedCursor.decode(cursor);
  return value && { score: value.s, id: value.i };
}

export function encodeListCursor(position: ListPosition): string {
  return listCursor.encode({ k: 'list', t: position.at, i: position.id });
}

export function decodeListCursor(cursor: string): ListPosition | null {
  const value = listCursor.decode(cursor);
  return value && { at: value.t, id: value.i };
}
