import { isUuid, paginate } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { defaultStanding, standingOf } from '../eligibility/index.ts';
import { encodeFeedCursor, type FeedPosition } from './cursor.ts';
import { type FeedFilters, type FeedRow, feedRows } from './repository.ts';

export interface ContributorFeedQuery {
  contributorId: string;
  filters?: FeedFilters;
  after?: FeedPosition | null;
  /** The page size, 1 to 100. */
  limit: number;
  now: Date;
}

/** One page of a contributor's feed and the cursor to the next, from their standing. */
export async function contributorFeed(
  /** A pool from `openFeedDatabase`: other sessions may plan the query far worse. */
  db: Kysely<TasksDB>,
  query: ContributorFeedQuery,
): Promise<{ rows: FeedRow[]; next: string | null }> {
  const contributorId = query.contributorId.toLowerCase();
  // A subject that is not a user id has no read-model row, no invitation and no assignment.
  const standing = isUuid(contributorId)
    ? await standingOf(db, contributorId)
    : { ...defaultStanding, status: 'suspended' as const };
  const rows = await feedRows(db, {
    contributorId,
    standing,
    filters: query.filters ?? {},
    after: query.after ?? null,
    limit: query.limit + 1,
    now: query.now,
  });
  const { page, next } = paginate(rows, query.limit, (last) =>
    encodeFeedCursor({ score: last.priority_score, id: last.id }),
  );
  return { rows: page, next };
}
