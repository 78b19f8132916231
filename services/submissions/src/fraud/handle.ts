import { randomUUID } from 'node:crypto';
import { buildEvent, type TaskType } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/service-kit';
import { sql, type Transaction } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import { contentHeldBefore, type SubmissionRow } from '../intake/repository.ts';
import { decideFlags, dedupeKey, type FraudRules } from './decide.ts';

/**
 * Raises the fraud signals a hand-in shows (a revision: shared content only), in the screening transaction: stored (once each, by
 * `dedupeKey`), listed for admins, and announced for engagement's trust score. Never rejects.
 */
export async function raiseFlags(
  trx: Transaction<SubmissionsDB>,
  row: SubmissionRow,
  rules: FraudRules,
  now: Date,
): Promise<number> {
  const firstHandIn = row.revision === 1;
  // How fast and how often someone works is told by first hand-ins only (a revision keeps the first
  // one's created_at); what content it holds, by every version.
  const history = firstHandIn ? await historyOf(trx, row) : { last_hour: 0, approved: 0, rejected: 0 };
  const shared =
    row.content_sha256 === null
      ? undefined
      : await trx
          .selectFrom('submissions')
          .select('id')
          .where('content_sha256', '=', row.content_sha256)
          .where('contributor_id', '!=', row.contributor_id)
          // Only content handed in before this version's: the copy is flagged, never the original,
          // whichever of the two is screened first (screening runs after intake, in any order), and
          // a revision copying work handed in after its first version is a copy too.
          .where(contentHeldBefore(row))
          .executeTakeFirst();
  const raised = decideFlags(
    {
      taskType: row.task_type as TaskType,
      firstHandIn,
      timeSpentSeconds: row.time_spent_seconds,
      lastHour: history.last_hour,
      approved: history.approved,
      rejected: history.rejected,
      sharedWithAnother: shared !== undefined,
    },
    rules,
  );
  let stored = 0;
  for (const { signal, details } of raised) {
    const id = randomUUID();
    const inserted = await trx
      .insertInto('fraud_flags')
      .values({
        id,
        contributor_id: row.contributor_id,
        signal,
        submission_id: row.id,
        campaign_id: row.campaign_id,
        details: JSON.stringify(details),
        dedupe_key: dedupeKey(signal, { contributorId: row.contributor_id, submissionId: row.id }, now),
        raised_at: now,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) continue;
    stored += 1;
    await appendToOutbox(trx, [
      buildEvent(
        'submissions.contributor.flagged.v1',
        {
          flag_id: id,
          contributor_id: row.contributor_id,
          signal,
          submission_id: row.id,
          campaign_id: row.campaign_id,
        },
        { subject: row.contributor_id, time: now },
      ),
    ]);
  }
  return stored;
}

/** The contributor's hand-ins in the hour before this one, and their decided submissions. */
async function historyOf(
  trx: Transaction<SubmissionsDB>,
  row: SubmissionRow,
): Promise<{ last_hour: number; approved: number; rejected: number }> {
  const createdAt = new Date(row.created_at);
  const hourAgo = new Date(createdAt.getTime() - 3_600_000);
  const { rows } = await sql<{ last_hour: number; approved: number; rejected: number }>`
    select
      count(*) filter (where created_at > ${hourAgo} and created_at <= ${createdAt})::int as last_hour,
      count(*) filter (where status = 'approved')::int as approved,
      count(*) filter (where status = 'rejected')::int as rejected
    from submissions where contributor_id = ${row.contributor_id}`.execute(trx);
  return rows[0] ?? { last_hour: 0, approved: 0, rejected: 0 };
}
