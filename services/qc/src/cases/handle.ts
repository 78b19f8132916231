import { randomUUID } from 'node:crypto';
import { parseEvent, type TesseraEvent } from '@tessera/contracts';
import { idsNamedBy, lockName, lockNames, type Logger } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import type { QcDB } from '../db/schema.ts';
import { settleCase } from '../verdicts/handle.ts';
import { decideGolden } from './decide.ts';

type Db = Kysely<QcDB>;

const TASK_LOCK_PREFIX = 'task:';

/**
 * The task's advisory lock: a submission checking whether its task is known, and the task's event
 * opening the submissions that waited for it, take it first, so a submission never waits for a
 * task whose event was applied meanwhile.
 */
async function lockTask(trx: Db, taskId: string): Promise<void> {
  await lockName(trx, TASK_LOCK_PREFIX + taskId.toLowerCase());
}

/** A consumer's `lockFirst`: the lock of every task a batch names, in one sorted order. */
export async function lockTasksOf(trx: Db, events: readonly { data: unknown }[]): Promise<void> {
  const ids = idsNamedBy(events, ['task_id']);
  if (ids.length === 0) return;
  await lockNames(
    trx,
    ids.map((id) => TASK_LOCK_PREFIX + id),
  );
}

export interface CaseDefaults {
  /** max_judges for claims that predate it. */
  maxJudges: number;
}

/**
 * A submission (or its revision) passed pre-validation: it becomes a case waiting for judges. A
 * golden task's case is decided at once against the known answer and counts toward the
 * contributor's golden accuracy. A repeated event changes nothing (one case per revision). A
 * submission whose task QC has not heard of yet waits for it (`waiting_submissions`), however long:
 * the task's event opens its case (`taskKnown`).
 */
export async function openCase(
  trx: Db,
  event: TesseraEvent<'submissions.submission.validated.v1'>,
  defaults: CaseDefaults,
  context: { now: Date; log: Logger },
): Promise<void> {
  const data = event.data;
  await lockTask(trx, data.task_id);
  const task = await trx
    .selectFrom('tasks')
    .select(['golden_answer'])
    .where('id', '=', data.task_id)
    .executeTakeFirst();
  // Judges are shown the task's input, and golden checks need its answer: wait for the task.
  if (!task) {
    await trx
      .insertInto('waiting_submissions')
      .values({
        submission_id: data.submission_id,
        revision: data.revision,
        task_id: data.task_id,
        event: JSON.stringify(event),
        received_at: context.now,
      })
      .onConflict((oc) => oc.columns(['submission_id', 'revision']).doNothing())
      .execute();
    context.log.info(
      { submission_id: data.submission_id, task_id: data.task_id },
      'a submission waits for its task: its case opens when the task arrives',
    );
    return;
  }
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

/**
 * A task's event (published or updated): the task is saved, and the submissions that arrived before
 * it and waited for it open their cases now, in the order they arrived.
 */
export async function taskKnown(
  trx: Db,
  event: TesseraEvent<'tasks.task.published.v1' | 'tasks.task.updated.v1'>,
  defaults: CaseDefaults,
  context: { now: Date; log: Logger },
): Promise<void> {
  await lockTask(trx, event.data.task_id);
  await saveTask(trx, event.data, event.time);
  const waiting = await trx
    .deleteFrom('waiting_submissions')
    .where('task_id', '=', event.data.task_id)
    .returning(['event', 'received_at'])
    .execute();
  waiting.sort((a, b) => a.received_at.getTime() - b.received_at.getTime());
  for (const row of waiting) {
    const submission = parseEvent(row.event);
    if (submission.type !== 'submissions.submission.validated.v1') continue;
    await openCase(trx, submission, defaults, context);
  }
}
