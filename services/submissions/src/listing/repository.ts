import { after, type Position } from '@tessera/service-kit';
import { type Expression, type Kysely, type SqlBool, sql } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import type { SubmissionStatus } from '../intake/decide.ts';
import type { SubmissionRow } from '../intake/repository.ts';

export interface ListFilter {
  contributorId?: string;
  campaignId?: string;
  status?: SubmissionStatus;
  /** Only submissions a fraud signal fired on. */
  flagged?: boolean;
  cursor?: Position;
  limit: number;
}

/** Newest first by (created_at, id); one row more than the page, for the next cursor. */
export async function listSubmissions(
  db: Kysely<SubmissionsDB>,
  filter: ListFilter,
): Promise<SubmissionRow[]> {
  let query = db.selectFrom('submissions').selectAll();
  if (filter.contributorId) query = query.where('contributor_id', '=', filter.contributorId);
  if (filter.campaignId) query = query.where('campaign_id', '=', filter.campaignId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.flagged !== undefined) {
    const wanted = filter.flagged;
    query = query.where((eb) => {
      const flagged = eb.exists(
        eb
          .selectFrom('fraud_flags')
          .select('fraud_flags.id')
          .whereRef('fraud_flags.submission_id', '=', 'submissions.id'),
      );
      return wanted ? flagged : eb.not(flagged);
    });
  }
  if (filter.cursor) query = query.where(after(filter.cursor));
  return query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute();
}

/** The company that owns a campaign, as far as submissions has heard of it. */
export async function companyOfCampaign(
  db: Kysely<SubmissionsDB>,
  campaignId: string,
): Promise<string | null> {
  const row = await db
    .selectFrom('task_views')
    .select('company_id')
    .where('campaign_id', '=', campaignId)
    .limit(1)
    .executeTakeFirst();
  return row?.company_id ?? null;
}

/**
 * A judge's access lasts past `now`: until their latest lease's end, or, granted before that was
 * recorded, a day from the grant.
 */
export function accessLasts(now: Date): Expression<SqlBool> {
  return sql<SqlBool>`coalesce(review_access.access_until, review_access.granted_at + interval '1 day') > ${now}`;
}

/** The judges whose lease on a submission lasts at `now` (from `qc.review.assigned.v1`). */
export async function judgesOf(
  db: Kysely<SubmissionsDB>,
  submissionId: string,
  now: Date,
): Promise<string[]> {
  const rows = await db
    .selectFrom('review_access')
    .select('judge_id')
    .where('submission_id', '=', submissionId)
    .where(accessLasts(now))
    .execute();
  return rows.map((row) => row.judge_id);
}
