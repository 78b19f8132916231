import { buildEvent, causedBy, type TesseraEvent } from '@tessera/contracts';
import {
  appendToOutbox,
  countedAndParked,
  eachOnItsOwn,
  type JobMetrics,
  type Logger,
  notParked,
} from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import { appealableUntil } from '../appeals/decide.ts';
import type { SubmissionRow } from '../intake/repository.ts';
import { decideVerdict, type VerdictOutcome, type VerdictRules } from './decide.ts';

type Trx = Transaction<SubmissionsDB>;

const refOf = (row: SubmissionRow) => ({
  submission_id: row.id,
  assignment_id: row.assignment_id,
  task_id: row.task_id,
  campaign_id: row.campaign_id,
  contributor_id: row.contributor_id,
});

/**
 * Applies QC's verdict to a submission, in the consumer's transaction: approve (the reward the
 * claim fixed, never more), reject with reasons, or ask for the one revision; an appeal verdict
 * overturns or upholds the rejection. The submission row is locked, and every move checks where it
 * stands, so a redelivered or repeated verdict changes nothing the second time.
 */
export async function applyVerdict(
  trx: Trx,
  event: TesseraEvent<'qc.submission.verdict-reached.v1'>,
  rules: VerdictRules,
  now: Date,
  logger: Logger,
): Promise<VerdictOutcome | null> {
  const data = event.data;
  const row = await trx
    .selectFrom('submissions')
    .selectAll()
    .where('id', '=', data.submission_id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) {
    logger.warn(
      { event_id: event.id, submission_id: data.submission_id },
      'a verdict on an unknown submission; ignored',
    );
    return null;
  }
  const appeal = await trx
    .selectFrom('appeals')
    .select(['id', 'status'])
    .where('submission_id', '=', row.id)
    .executeTakeFirst();
  const outcome = decideVerdict(
    {
      status: row.status,
      revision: row.revision,
      openAppealId: appeal?.status === 'open' ? appeal.id : null,
      now,
    },
    {
      revision: data.revision,
      verdict: data.verdict,
      method: data.method,
      reasonCodes: data.reason_codes,
      appealId: data.appeal_id ?? null,
    },
    rules,
  );
  const verdictFields = {
    verdict_method: data.method,
    verdict_confidence: data.confidence,
    quality_score: data.quality_score,
    verdict_answer: data.answer === null ? null : JSON.stringify(data.answer),
    answer_confidence: data.answer_confidence,
    decided_at: now,
    updated_at: now,
  };
  switch (outcome.kind) {
    case 'ignore':
      logger.info({ event_id: event.id, submission_id: row.id, why: outcome.why }, 'verdict changes nothing');
      return outcome;
    case 'approve': {
      await trx
        .updateTable('submissions')
        .set({ ...verdictFields, status: 'approved', reason_codes: [] })
        .where('id', '=', row.id)
        .execute();
      const decided: TesseraEvent[] = [];
      if (appeal?.status === 'open') {
        await trx
          .updateTable('appeals')
          .set({ status: 'overturned', decided_at: now })
          .where('id', '=', appeal.id)
          .execute();
        decided.push(appealDecided(row, appeal.id, 'overturned', event));
      }
      await appendToOutbox(trx, [
        ...decided,
        buildEvent(
          'submissions.submission.approved.v1',
          {
            ...refOf(row),
            // What the claim fixed: a verdict never raises it.
            reward: { amount: Number(row.reward_amount), currency: row.currency },
            xp_reward: row.xp_reward,
            method: data.method,
          },
          causedBy(event, row.id),
        ),
      ]);
      return outcome;
    }
    case 'reject':
      await rejectSubmission(trx, row, outcome.reasonCodes, outcome.stage, now, event, verdictFields);
      return outcome;
    case 'ask_revision':
      await trx
        .updateTable('submissions')
        .set({
          ...verdictFields,
          status: 'revision_requested',
          reason_codes: outcome.reasonCodes,
          revision_deadline: outcome.deadline,
        })
        .where('id', '=', row.id)
        .execute();
      await appendToOutbox(trx, [
        buildEvent(
          'submissions.submission.revision-requested.v1',
          { ...refOf(row), reason_codes: outcome.reasonCodes, deadline: outcome.deadline.toISOString() },
          causedBy(event, row.id),
        ),
      ]);
      return outcome;
    case 'uphold_appeal':
      await trx
        .updateTable('appeals')
        .set({ status: 'upheld', decided_at: now })
        .where('id', '=', outcome.appealId)
        .execute();
      await appendToOutbox(trx, [appealDecided(row, outcome.appealId, 'upheld', event)]);
      return outcome;
  }
}

/** An appeal's outcome: tasks frees (upheld) or pays (overturned, with the approval) what it held. */
function appealDecided(
  row: SubmissionRow,
  appealId: string,
  outcome: 'overturned' | 'upheld',
  cause: TesseraEvent,
): TesseraEvent {
  return buildEvent(
    'submissions.appeal.decided.v1',
    { appeal_id: appealId, ...refOf(row), outcome },
    causedBy(cause, appealId),
  );
}

/**
 * Rejects a submission and frees its claim's slot (tasks acts on the event). Every rejection can be
 * appealed (none follows an appeal: an overturned one is approved for good, an upheld one stays
 * rejected without a new event), so the event says until when (appeals/decide.ts), and tasks keeps
 * the campaign's escrow until then.
 */
export async function rejectSubmission(
  trx: Trx,
  row: SubmissionRow,
  reasonCodes: string[],
  stage: 'pre_validation' | 'review' | 'revision' | 'appeal',
  now: Date,
  cause: TesseraEvent | null,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await trx
    .updateTable('submissions')
    .set({
      ...extra,
      status: 'rejected',
      reason_codes: reasonCodes,
      decided_at: now,
      updated_at: now,
      revision_deadline: null,
    })
    .where('id', '=', row.id)
    .execute();
  await appendToOutbox(trx, [
    buildEvent(
      'submissions.submission.rejected.v1',
      {
        ...refOf(row),
        reason_code: reasonCodes[0]!,
        reason_codes: reasonCodes,
        stage,
        appealable_until: appealableUntil(now).toISOString(),
      },
      cause ? causedBy(cause, row.id) : { subject: row.id },
    ),
  ]);
}

/**
 * Rejects the revisions asked for and never handed in before their deadline, each in its own
 * transaction (checked again under its row lock): one that fails is logged and does not hold up the
 * others, which a batch in one transaction would (rolled back together, first again at every run).
 */
export async function expireRevisions(
  db: Kysely<SubmissionsDB>,
  now: Date,
  options: { limit?: number; logger?: Logger; counted?: { job: string; metrics: JobMetrics } } = {},
): Promise<number> {
  const due = await db
    .selectFrom('submissions')
    .select('id')
    .where('status', '=', 'revision_requested')
    .where('revision_deadline', '<=', now)
    .$if(options.counted !== undefined, (q) => q.where(notParked(options.counted!.job, 'submissions.id')))
    .orderBy('revision_deadline')
    .limit(options.limit ?? 200)
    .execute();
  const expired = await eachOnItsOwn(
    due,
    ({ id }) =>
      db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('submissions')
          .selectAll()
          .where('id', '=', id)
          .where('status', '=', 'revision_requested')
          .where('revision_deadline', '<=', now)
          .forUpdate()
          .skipLocked()
          .executeTakeFirst();
        if (!row) return false;
        await rejectSubmission(trx, row, ['REVISION_NOT_SUBMITTED'], 'revision', now, null);
        return true;
      }),
    {
      logger: options.logger,
      message: 'expiring a revision failed; the others go on',
      describe: ({ id }) => ({ submission_id: id }),
      ...countedAndParked(options.counted, db, ({ id }) => id),
    },
  );
  return expired.filter(Boolean).length;
}
