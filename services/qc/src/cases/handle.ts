import { randomUUID } from 'node:crypto';
import type { TesseraEvent } from '@tessera/contracts';
import type { Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { QcDB } from '../db/schema.ts';
import { settleCase } from '../verdicts/handle.ts';
import { decideGolden } from './decide.ts';

type Db = Kysely<QcDB>;

/** Thrown when a submission arrives before its task's event; the consumer retries it later. */
export class TaskNotKnownYet extends Error {
  override readonly name = 'TaskNotKnownYet';
}

export interface CaseDefaults {
  /** max_judges for claims that predate it. */
  maxJudges: number;
}

/**
 * A submission (or its revision) passed pre-validation: it becomes a case waiting for judges. A
 * golden task's case is decided at once against the known answer and counts toward the
 * contributor's golden accuracy. A repeated event changes nothing (one case per revision).
 */
export async function openCase(
  trx: Db,
  event: TesseraEvent<'submissions.submission.validated.v1'>,
  defaults: CaseDefaults,
  context: { now: Date; log: Logger },
): Promise<void> {
  const data = event.data;
  const task = await trx
    .selectFrom('tasks')
    .select(['golden_answer'])
    .where('id', '=', data.task_id)
    .executeTakeFirst();
  // Judges are shown the task's input, and golden checks need its answer: wait for the task.
  if (!task) throw new TaskNotKnownYet(`task ${data.task_id} of submission ${data.submission_id}`);
  const maxJudges = Math.max(data.max_judges ?? defaults.maxJudges, data.judges_required);
  const opened = await trx
    .insertInto('cases')
    .values({
      id: randomUUID(),
      submission_id: data.submission_id,
      revision: data.revision,
      assignment_id: data.assignment_id,
      task_id: data.task_id,
      campaign_id: data.campaign_id,
      company_id: data.company_id,
      contributor_id: data.contributor_id,
      task_type: data.task_type,
      judges_required: data.judges_required,
      max_judges: maxJudges,
      judge_fee_amount: data.judge_fee?.amount ?? 0,
      currency: data.judge_fee?.currency ?? 'USD',
      is_golden: data.is_golden,
      answer: data.answer === null ? null : JSON.stringify(data.answer),
      media: JSON.stringify(data.media),
      status: 'open',
      votes_wanted: data.judges_required,
      submitted_at: data.submitted_at,
      created_at: context.now,
    })
    .onConflict((oc) => oc.columns(['submission_id', 'revision']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!opened || !data.is_golden) return;

  const golden = decideGolden(task.golden_answer, data.answer);
  if (!golden) {
    context.log.warn(
      { submission_id: data.submission_id, task_id: data.task_id },
      'a golden submission QC cannot check against its answer goes to judges',
    );
    return;
  }
  const right = golden.verdict === 'approve' ? 1 : 0;
  await trx
    .insertInto('contributor_golden')
    .values({ user_id: data.contributor_id, correct: right, answered: 1 })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet((eb) => ({
        correct: eb('contributor_golden.correct', '+', right),
        answered: eb('contributor_golden.answered', '+', 1),
      })),
    )
    .execute();
  await settleCase(
    trx,
    opened,
    {
      verdict: golden.verdict,
      method: 'golden',
      confidence: 1,
      details: { qualityScore: null, reasonCodes: golden.reasonCodes, answer: null, answerConfidence: null },
    },
    { now: context.now, cause: event },
  );
}

/** Tasks as tasks announced them: the input judges see, and a golden task's answer. */
export async function saveTask(
  trx: Db,
  task: TesseraEvent<'tasks.task.published.v1'>['data'],
  at: string,
): Promise<void> {
  const row = {
    id: task.task_id,
    campaign_id: task.campaign_id,
    company_id: task.company_id,
    task_type: task.task_type,
    input: JSON.stringify(task.input),
    is_golden: task.is_golden,
    golden_answer: task.golden_answer === null ? null : JSON.stringify(task.golden_answer),
    changed_at: at,
  };
  await trx
    .insertInto('tasks')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ ...row })
        .where('tasks.changed_at', '<=', new Date(at)),
    )
    .execute();
}
