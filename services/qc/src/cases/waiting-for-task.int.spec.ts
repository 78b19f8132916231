import { randomUUID } from 'node:crypto';
import { foreignEvent, waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { startTestQc, taskData, type TestQc } from '../testing/harness.ts';

let t: TestQc;

beforeAll(async () => {
  t = await startTestQc();
});

afterAll(async () => {
  await t?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Longer than the harness consumer's whole retry budget (8 failures, backoff 50, 100, 200, 200… ms). */
const pastEveryRetry = 2_500;

const casesOf = (submissionId: string) =>
  t.service.db.selectFrom('cases').selectAll().where('submission_id', '=', submissionId).execute();

const deadLetters = () => t.service.db.selectFrom('dead_letters').select(['event_id', 'error']).execute();

function validated(task: { taskId: string; campaignId: string; companyId: string }, extra = {}) {
  const submissionId = randomUUID();
  return foreignEvent(
    'submissions.submission.validated.v1',
    {
      submission_id: submissionId,
      assignment_id: randomUUID(),
      task_id: task.taskId,
      campaign_id: task.campaignId,
      company_id: task.companyId,
      contributor_id: randomUUID(),
      task_type: 'validation',
      revision: 1,
      judges_required: 3,
      judge_fee: { amount: 10, currency: 'USD' },
      max_judges: 5,
      is_golden: false,
      answer: null,
      media: [],
      submitted_at: new Date().toISOString(),
      ...extra,
    },
    submissionId,
  );
}

describe('a submission that arrives before its task', () => {
  it('waits for the task however long it lags, never dead-lettered; the task opens its case exactly once', async () => {
    const task = { taskId: randomUUID(), campaignId: randomUUID(), companyId: randomUUID() };
    const submission = validated(task);
    await t.publish(submission);
    // Taken and put to wait (not merely not handled yet) …
    await waitFor(
      async () =>
        (await t.service.db
          .selectFrom('waiting_submissions')
          .select('submission_id')
          .where('submission_id', '=', submission.data.submission_id)
          .executeTakeFirst()) !== undefined,
      { what: 'the submission waiting for its task' },
    );
    // … and still waiting once every retry would have been spent.
    await sleep(pastEveryRetry);
    expect((await deadLetters()).filter((letter) => letter.event_id === submission.id)).toEqual([]);
    expect(await casesOf(submission.data.submission_id)).toEqual([]);

    // The task at last (published, then updated): the case opens, once.
    await t.fixtures.task('validation', {
      task_id: task.taskId,
      campaign_id: task.campaignId,
      company_id: task.companyId,
    });
    await t.deliver(consumerNames.tasks, foreignEvent('tasks.task.updated.v1', taskData('validation', task)));
    const opened = await casesOf(submission.data.submission_id);
    expect(opened).toEqual([expect.objectContaining({ status: 'open', revision: 1, task_id: task.taskId })]);
    // The submission event again (a redelivery under another message id): still one case.
    await t.deliver(consumerNames.submissions, submission, `${submission.id}-again`);
    expect(await casesOf(submission.data.submission_id)).toHaveLength(1);
  });

  it("a golden submission waiting for its task is checked against the task's answer when it arrives", async () => {
    const task = { taskId: randomUUID(), campaignId: randomUUID(), companyId: randomUUID() };
    const submission = validated(task, { is_golden: true, answer: { option: 'no' } });
    await t.deliver(consumerNames.submissions, submission);
    expect(await casesOf(submission.data.submission_id)).toEqual([]);
    await t.fixtures.task('validation', {
      task_id: task.taskId,
      campaign_id: task.campaignId,
      company_id: task.companyId,
      is_golden: true,
      golden_answer: { option: 'yes' },
    });
    const [verdict] = await t.written(
      'qc.submission.verdict-reached.v1',
      'submission_id',
      submission.data.submission_id,
    );
    expect(verdict!.data).toMatchObject({
      verdict: 'reject',
      method: 'golden',
      reason_codes: ['GOLDEN_MISMATCH'],
    });
  });
});
