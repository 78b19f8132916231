import { randomUUID } from 'node:crypto';
import { buildEvent } from '@tessera/contracts';
import { appendToOutbox, type Clock, orRefuse } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import { submissionNotFound } from '../listing/access.ts';
import { decideAppeal } from './decide.ts';

export interface AppealRecord {
  id: string;
  submissionId: string;
  status: 'open' | 'upheld' | 'overturned';
  reason: string;
  filedAt: Date;
}

/**
 * A contributor appeals their rejected submission: once, within 7 days of the rejection. The
 * appeal goes to QC's admin queue as `submissions.appeal.filed.v1`; its verdict (method `appeal`)
 * overturns or upholds the rejection.
 */
export async function fileAppeal(
  deps: { db: Kysely<SubmissionsDB>; clock: Clock },
  request: { contributorId: string; submissionId: string; reason: string },
): Promise<AppealRecord> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock();
    const row = await trx
      .selectFrom('submissions')
      .selectAll()
      .where('id', '=', request.submissionId)
      .forUpdate()
      .executeTakeFirst();
    // Another contributor's submission is not theirs to know about.
    if (!row || row.contributor_id !== request.contributorId) throw submissionNotFound();
    const earlier = await trx
      .selectFrom('appeals')
      .select('id')
      .where('submission_id', '=', row.id)
      .executeTakeFirst();
    orRefuse(
      decideAppeal({
        status: row.status,
        decidedAt: row.decided_at ? new Date(row.decided_at) : null,
        appealed: earlier !== undefined,
        now,
      }),
    );
    const appeal: AppealRecord = {
      id: randomUUID(),
      submissionId: row.id,
      status: 'open',
      reason: request.reason,
      filedAt: now,
    };
    await trx
      .insertInto('appeals')
      .values({
        id: appeal.id,
        submission_id: row.id,
        contributor_id: row.contributor_id,
        reason: appeal.reason,
        status: 'open',
        filed_at: now,
      })
      .execute();
    await appendToOutbox(trx, [
      buildEvent(
        'submissions.appeal.filed.v1',
        {
          appeal_id: appeal.id,
          submission_id: row.id,
          assignment_id: row.assignment_id,
          task_id: row.task_id,
          campaign_id: row.campaign_id,
          contributor_id: row.contributor_id,
          company_id: row.company_id,
          reason: appeal.reason,
          rejected_reason_codes: row.reason_codes,
        },
        { subject: row.id },
      ),
    ]);
    return appeal;
  });
}
