import { randomUUID } from 'node:crypto';
import { buildEvent, type EventData, type EventType, type TesseraEvent } from '@tessera/contracts';
import { waitForHandled } from '@tessera/service-kit/testing';
import { type KyselyPlugin, SelectQueryNode } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireDueAssignments, FEE_NEWS_GRACE_MS, releaseUnusedFeeHolds } from '../assignments/index.ts';
import { announceDueCloses, completeEndedCampaigns, reconcileCampaign } from '../campaigns/index.ts';
import { APPEAL_NEWS_GRACE_MS } from '../campaigns/money.ts';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';
import { consumerNames, tasksConsumers } from './consumers.ts';

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks({}, { background: { expiry: false } });
});

afterAll(async () => {
  await t?.stop();
});

interface Claim {
  id: string;
  task_id: string;
  campaign_id: string;
  contributor_id: string;
}

async function claim(taskId: string): Promise<Claim> {
  const contributorId = randomUUID();
  const token = await t.token({ sub: contributorId, role: 'contributor' });
  const response = await t.inject({ method: 'POST', url: `/api/v1/tasks/${taskId}/claim`, token });
  expect(response.status).toBe(201);
  return response.body.assignment as Claim;
}

function event<T extends EventType>(type: T, data: EventData<T>): TesseraEvent<T> {
  return buildEvent(type, data, { subject: randomUUID() });
}

const ref = (a: Claim, submissionId: string) => ({
  submission_id: submissionId,
  assignment_id: a.id,
  task_id: a.task_id,
  campaign_id: a.campaign_id,
  contributor_id: a.contributor_id,
});

const received = (a: Claim, submissionId = randomUUID()) =>
  event('submissions.submission.received.v1', ref(a, submissionId));
const rejected = (a: Claim, submissionId: string, appealableUntil?: Date) =>
  event('submissions.submission.rejected.v1', {
    ...ref(a, submissionId),
    reason_code: 'low_quality',
    ...(appealableUntil ? { appealable_until: appealableUntil.toISOString() } : {}),
  });
const approved = (a: Claim, submissionId: string, amount = 100) =>
  event('submissions.submission.approved.v1', {
    ...ref(a, submissionId),
    reward: { amount, currency: 'USD' },
    xp_reward: 10,
  });

const deliver = (e: TesseraEvent, msgID?: string) => t.deliver(consumerNames.submissions, e, msgID);

const assignmentRow = (id: string) =>
  t.tasks.db.selectFrom('assignments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const taskRow = (id: string) =>
  t.tasks.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
async function money(campaignId: string) {
  const c = await t.tasks.db
    .selectFrom('campaigns')
    .selectAll()
    .where('id', '=', campaignId)
    .executeTakeFirstOrThrow();
  return {
    status: c.status,
    pause_reason: c.pause_reason,
    reserved: Number(c.reserved_amount),
    owed: Number(c.owed_amount),
    quota_taken: c.quota_taken,
    received: c.received_count,
    approved: c.approved_count,
    rejected: c.rejected_count,
  };
}

async function taskIn(values: Parameters<TestTasks['fixtures']['task']>[1] = {}, campaign = {}) {
  const c = await t.fixtures.activeCampaign(campaign);
  const task = await t.fixtures.task(c.id, values);
  return { campaignId: c.id, taskId: task.id };
}

const writtenCount = async (type: EventType, field: string, value: string) =>
  (await t.written(type, field, value)).length;

describe('a received submission', () => {
  it('moves the claim to submitted; it keeps its slot and its reserved reward', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();

    await deliver(received(a, submissionId));

    expect(await assignmentRow(a.id)).toMatchObject({
      status: 'submitted',
      submission_id: submissionId,
      settled_at: null,
    });
    expect((await assignmentRow(a.id)).ended_at).toBeInstanceOf(Date);
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, submitted_count: 1 });
    expect(await money(campaignId)).toMatchObject({ reserved: 100, quota_taken: 1, received: 1 });
  });

  it('counts once when received again under another event id', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();

    await deliver(received(a, submissionId));
    await deliver(received(a, submissionId));

    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, submitted_count: 1 });
    expect((await money(campaignId)).received).toBe(1);
  });

  it('takes its slot back when its claim had already expired', async () => {
    const { campaignId, taskId } = await taskIn({ max_submissions: 1 });
    const a = await claim(taskId);
    await expireDueAssignments(t.tasks.db, { now: new Date(Date.now() + 2 * 3_600_000) });
    expect((await assignmentRow(a.id)).status).toBe('expired');
    expect(await money(campaignId)).toMatchObject({ reserved: 0, quota_taken: 0 });
    const submissionId = randomUUID();

    await deliver(received(a, submissionId));

    expect(await assignmentRow(a.id)).toMatchObject({ status: 'submitted', submission_id: submissionId });
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, submitted_count: 1 });
    expect(await money(campaignId)).toMatchObject({ reserved: 100, quota_taken: 1, received: 1 });

    await deliver(approved(a, submissionId));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 100, approved: 1 });
  });

  it('replaces a newer, empty claim of the same contributor on the same task', async () => {
    const { campaignId, taskId } = await taskIn();
    const contributorId = randomUUID();
    const token = await t.token({ sub: contributorId, role: 'contributor' });
    const claimOnce = async () =>
      (await t.inject({ method: 'POST', url: `/api/v1/tasks/${taskId}/claim`, token })).body
        .assignment as Claim;
    const old = await claimOnce();
    await expireDueAssignments(t.tasks.db, { now: new Date(Date.now() + 2 * 3_600_000) });
    const renewed = await claimOnce();
    expect(renewed.id).not.toBe(old.id);

    await deliver(received(old, randomUUID()));

    expect((await assignmentRow(old.id)).status).toBe('submitted');
    expect((await assignmentRow(renewed.id)).status).toBe('released');
    expect((await taskRow(taskId)).slots_taken).toBe(1);
    expect(await money(campaignId)).toMatchObject({ reserved: 100, quota_taken: 1 });
    await t.awaitPublished('tasks.assignment.released.v1', (e) => e.data.assignment_id === renewed.id);
  });

  it('is ignored when no assignment matches', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const stranger = { ...a, id: randomUUID() };

    await deliver(received(stranger));

    expect((await assignmentRow(a.id)).status).toBe('active');
    expect((await money(campaignId)).received).toBe(0);
    const dead = await t.tasks.db.selectFrom('dead_letters').select('event_id').execute();
    expect(dead).toEqual([]);
  });
});

describe('a rejected submission', () => {
  it('frees the slot, the quota unit and the reserved reward', async () => {
    const { campaignId, taskId } = await taskIn({ max_submissions: 1 });
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));

    await deliver(rejected(a, submissionId));

    const row = await assignmentRow(a.id);
    expect(row).toMatchObject({ status: 'rejected', submission_id: submissionId });
    expect(row.settled_at).toBeInstanceOf(Date);
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 0, submitted_count: 1, rejected_count: 1 });
    expect(await money(campaignId)).toMatchObject({
      reserved: 0,
      owed: 0,
      quota_taken: 0,
      received: 1,
      rejected: 1,
    });
    // The slot is someone else's to take.
    await claim(taskId);
  });

  it('counts once however often it arrives', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));

    await deliver(rejected(a, submissionId));
    await deliver(rejected(a, submissionId));

    expect((await assignmentRow(a.id)).status).toBe('rejected');
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 0, rejected_count: 1, approved_count: 0 });
    expect(await money(campaignId)).toMatchObject({
      reserved: 0,
      owed: 0,
      quota_taken: 0,
      rejected: 1,
      approved: 0,
    });
  });
});

const appealRef = (a: Claim, submissionId: string) => ({
  appeal_id: randomUUID(),
  ...ref(a, submissionId),
  company_id: randomUUID(),
});
const appealFiled = (a: Claim, submissionId: string) =>
  event('submissions.appeal.filed.v1', {
    ...appealRef(a, submissionId),
    reason: 'The recording is clear; please listen again.',
    rejected_reason_codes: ['low_quality'],
  });
const appealDecided = (a: Claim, submissionId: string, outcome: 'overturned' | 'upheld') =>
  event('submissions.appeal.decided.v1', { ...appealRef(a, submissionId), outcome });

async function rejectedClaim() {
  const { campaignId, taskId } = await taskIn();
  const a = await claim(taskId);
  const submissionId = randomUUID();
  await deliver(received(a, submissionId));
  await deliver(rejected(a, submissionId));
  return { campaignId, taskId, a, submissionId };
}

describe('an appealed or overturned rejection', () => {
  it('holds the reward, a quota unit and the slot again while the appeal is open (once)', async () => {
    const { campaignId, taskId, a, submissionId } = await rejectedClaim();
    const filed = appealFiled(a, submissionId);
    await deliver(filed);
    await deliver(filed, `${filed.id}-again`);

    expect(await assignmentRow(a.id)).toMatchObject({ status: 'rejected', appeal_state: 'held' });
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, rejected_count: 1 });
    expect(await money(campaignId)).toMatchObject({ reserved: 100, quota_taken: 1, owed: 0, rejected: 1 });
  });

  it('pays the overturned rejection: the held reward becomes owed, counted as approved, once', async () => {
    const { campaignId, taskId, a, submissionId } = await rejectedClaim();
    await deliver(appealFiled(a, submissionId));
    const overturned = approved(a, submissionId);
    await deliver(overturned);
    await deliver(appealDecided(a, submissionId, 'overturned'));
    await deliver(overturned, `${overturned.id}-again`);

    expect(await assignmentRow(a.id)).toMatchObject({ status: 'approved', appeal_state: 'decided' });
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, approved_count: 1, rejected_count: 0 });
    expect(await money(campaignId)).toMatchObject({
      reserved: 0,
      owed: 100,
      quota_taken: 1,
      approved: 1,
      rejected: 0,
    });
  });

  it('pays an approval that overturns a rejection without an appeal (QC re-judged it)', async () => {
    const { campaignId, a, submissionId } = await rejectedClaim();
    await deliver(approved(a, submissionId));
    expect((await assignmentRow(a.id)).status).toBe('approved');
    expect(await money(campaignId)).toMatchObject({
      reserved: 0,
      owed: 100,
      quota_taken: 1,
      approved: 1,
      rejected: 0,
    });
  });

  it('frees what the appeal held when it is upheld, once', async () => {
    const { campaignId, taskId, a, submissionId } = await rejectedClaim();
    await deliver(appealFiled(a, submissionId));
    const upheld = appealDecided(a, submissionId, 'upheld');
    await deliver(upheld);
    await deliver(upheld, `${upheld.id}-again`);

    expect(await assignmentRow(a.id)).toMatchObject({ status: 'rejected', appeal_state: 'decided' });
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 0, rejected_count: 1 });
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 0, quota_taken: 0, rejected: 1 });
  });

  it('holds nothing for an appeal filed (a retry) after it was upheld: the campaign can still close', async () => {
    const { campaignId, taskId, a, submissionId } = await rejectedClaim();
    const filed = appealFiled(a, submissionId);
    await deliver(appealDecided(a, submissionId, 'upheld'));
    await deliver(filed);
    await deliver(filed, `${filed.id}-again`);

    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 0, quota_taken: 0, rejected: 1 });
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 0, rejected_count: 1 });
    expect(await assignmentRow(a.id)).toMatchObject({ status: 'rejected', appeal_state: 'decided' });
    await t.tasks.db
      .updateTable('campaigns')
      .set({ status: 'cancelled', close_event: 'cancelled' })
      .where('id', '=', campaignId)
      .execute();
    await t.tasks.db.transaction().execute((trx) => reconcileCampaign(trx, campaignId, new Date()));
    expect(await writtenCount('tasks.campaign.cancelled.v1', 'campaign_id', campaignId)).toBe(1);
  });

  it('holds nothing for an appeal filed after it was overturned; the approval pays the reward once', async () => {
    const { campaignId, taskId, a, submissionId } = await rejectedClaim();
    await deliver(appealDecided(a, submissionId, 'overturned'));
    await deliver(appealFiled(a, submissionId));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, quota_taken: 0 });
    expect(await assignmentRow(a.id)).toMatchObject({ status: 'rejected', appeal_state: 'decided' });

    await deliver(approved(a, submissionId));

    expect(await assignmentRow(a.id)).toMatchObject({ status: 'approved', appeal_state: 'decided' });
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, approved_count: 1, rejected_count: 0 });
    expect(await money(campaignId)).toMatchObject({
      reserved: 0,
      owed: 100,
      quota_taken: 1,
      approved: 1,
      rejected: 0,
    });
  });

  it('keeps a cancelled campaign from announcing its close while an appeal holds money', async () => {
    const { campaignId, a, submissionId } = await rejectedClaim();
    await deliver(appealFiled(a, submissionId));
    await t.tasks.db
      .updateTable('campaigns')
      .set({ status: 'cancelled', close_event: 'cancelled' })
      .where('id', '=', campaignId)
      .execute();
    await deliver(appealDecided(a, randomUUID(), 'upheld')); // another submission: changes nothing
    expect(await writtenCount('tasks.campaign.cancelled.v1', 'campaign_id', campaignId)).toBe(0);
    await deliver(appealDecided(a, submissionId, 'upheld'));
    expect(await writtenCount('tasks.campaign.cancelled.v1', 'campaign_id', campaignId)).toBe(1);
  });
});

describe('appeal news handled before the submission was seen received and rejected', () => {
  /** A claim whose submission's appeal news is published first: the receipt and rejection come after. */
  async function newsFirst(news: (a: Claim, submissionId: string) => TesseraEvent) {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();
    const early = news(a, submissionId);
    await t.publish(early);
    await deliver(received(a, submissionId));
    await deliver(rejected(a, submissionId));
    await waitForHandled(t.tasks.db, consumerNames.submissions, early.id);
    const deadLettered = await t.tasks.db
      .selectFrom('dead_letters')
      .select('event_id')
      .where('event_id', '=', early.id)
      .execute();
    expect(deadLettered).toEqual([]);
    return { campaignId, taskId, a, submissionId };
  }

  it('holds the reward for an appeal filed before tasks saw the submission received and rejected', async () => {
    const { campaignId, taskId, a, submissionId } = await newsFirst(appealFiled);
    expect(await assignmentRow(a.id)).toMatchObject({ status: 'rejected', appeal_state: 'held' });
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, rejected_count: 1 });
    expect(await money(campaignId)).toMatchObject({ reserved: 100, quota_taken: 1, rejected: 1 });

    await deliver(appealDecided(a, submissionId, 'upheld'));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, quota_taken: 0 });
  });

  it('records an appeal decided before tasks saw the submission received and rejected: a filing after holds nothing', async () => {
    const { campaignId, a, submissionId } = await newsFirst((claimed, id) =>
      appealDecided(claimed, id, 'upheld'),
    );
    expect(await assignmentRow(a.id)).toMatchObject({ status: 'rejected', appeal_state: 'decided' });
    await deliver(appealFiled(a, submissionId));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, quota_taken: 0, rejected: 1 });
  });
});

describe('an ended campaign whose rejections can still be appealed', () => {
  const hour = 3_600_000;
  const inHours = (hours: number) => new Date(Date.now() + hours * hour);
  /** After the campaigns these tests end "in an hour" (the background job, at the real now, leaves them). */
  const later = () => inHours(2);
  const week = 7 * 24 * hour;

  const rewardPaid = (a: Claim, submissionId: string, amount = 100) =>
    buildEvent(
      'ledger.reward.paid.v1',
      {
        submission_id: submissionId,
        campaign_id: a.campaign_id,
        contributor_id: a.contributor_id,
        amount: { amount, currency: 'USD' },
        transfer_id: randomUUID(),
        campaign_remaining: { amount: 0, currency: 'USD' },
      },
      { subject: a.campaign_id },
    );

  /** A running campaign ending in an hour; its one submission is rejected, then the campaign ends. */
  async function endedWithRejection(appealableUntil?: Date) {
    const { campaignId, taskId } = await taskIn({}, { end_at: inHours(1) });
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    const rejection = rejected(a, submissionId, appealableUntil);
    await deliver(rejection);
    await completeEndedCampaigns(t.tasks.db, { now: later() });
    expect(await money(campaignId)).toMatchObject({ status: 'completed', reserved: 0, owed: 0 });
    return { campaignId, a, submissionId, rejection };
  }

  const closes = (campaignId: string) =>
    writtenCount('tasks.campaign.completed.v1', 'campaign_id', campaignId);

  it('announces no close while the rejection can be appealed; an overturned appeal is paid, then the campaign closes', async () => {
    const windowEnd = new Date(Date.now() + week);
    const { campaignId, a, submissionId } = await endedWithRejection(windowEnd);
    expect((await assignmentRow(a.id)).appealable_until).toEqual(windowEnd);
    expect(await closes(campaignId)).toBe(0);
    await announceDueCloses(t.tasks.db, { now: later() });
    expect(await closes(campaignId)).toBe(0);

    // Days later, within the window: the contributor appeals and an admin overturns the rejection.
    await deliver(appealFiled(a, submissionId));
    expect(await money(campaignId)).toMatchObject({ reserved: 100, owed: 0 });
    await deliver(approved(a, submissionId));
    await deliver(appealDecided(a, submissionId, 'overturned'));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 100, approved: 1 });
    expect(await closes(campaignId)).toBe(0);

    // The ledger pays the reward from the escrow it still holds; only then is the close announced.
    await t.deliver(consumerNames.ledger, rewardPaid(a, submissionId));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 0 });
    expect(await closes(campaignId)).toBe(1);
    await announceDueCloses(t.tasks.db, { now: new Date(Date.now() + 2 * week) });
    expect(await closes(campaignId)).toBe(1);
  });

  it('announces the close from the schedule job once the appeal window has passed unused, once', async () => {
    const windowEnd = new Date(Date.now() + week);
    const { campaignId } = await endedWithRejection(windowEnd);
    expect(await closes(campaignId)).toBe(0);

    await announceDueCloses(t.tasks.db, { now: new Date(windowEnd.getTime() - 60_000) });
    await announceDueCloses(t.tasks.db, { now: windowEnd });
    // An appeal filed at the window's last moment may still be on its way.
    await announceDueCloses(t.tasks.db, { now: new Date(windowEnd.getTime() + APPEAL_NEWS_GRACE_MS) });
    expect(await closes(campaignId)).toBe(0);

    expect(
      await announceDueCloses(t.tasks.db, {
        now: new Date(windowEnd.getTime() + APPEAL_NEWS_GRACE_MS + 1),
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(await closes(campaignId)).toBe(1);
    await announceDueCloses(t.tasks.db, { now: new Date(windowEnd.getTime() + week) });
    expect(await closes(campaignId)).toBe(1);
  });

  it('gives a rejection from a producer without appealable_until 7 days from its time', async () => {
    const { campaignId, a, rejection } = await endedWithRejection();
    const derived = new Date(new Date(rejection.time).getTime() + week);
    expect((await assignmentRow(a.id)).appealable_until).toEqual(derived);
    expect(await closes(campaignId)).toBe(0);

    await announceDueCloses(t.tasks.db, { now: new Date(derived.getTime() - 60_000) });
    expect(await closes(campaignId)).toBe(0);
    await announceDueCloses(t.tasks.db, { now: new Date(derived.getTime() + APPEAL_NEWS_GRACE_MS + 1) });
    expect(await closes(campaignId)).toBe(1);
  });
});

describe('judge fees a claim holds', () => {
  it('holds max_judges fees with the reward, turns earned fees into owed, and frees the rest once the verdict’s fees had their time', async () => {
    const { campaignId, taskId } = await taskIn({ judge_fee_amount: 10, max_judges: 5 });
    const a = await claim(taskId);
    expect(await money(campaignId)).toMatchObject({ reserved: 150 });
    expect(await assignmentRow(a.id)).toMatchObject({
      judge_fee_amount: 10,
      max_judges: 5,
      fee_hold_amount: 50,
    });
    const [claimed] = await t.written('tasks.assignment.claimed.v1', 'assignment_id', a.id);
    expect(claimed!.data).toMatchObject({ judge_fee: { amount: 10, currency: 'USD' }, max_judges: 5 });

    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    const fee = () =>
      event('qc.review.fee-earned.v1', {
        review_id: randomUUID(),
        submission_id: submissionId,
        assignment_id: a.id,
        campaign_id: campaignId,
        judge_id: randomUUID(),
        fee: { amount: 10, currency: 'USD' },
      });
    const first = fee();
    for (const e of [first, fee(), fee()]) await t.deliver(consumerNames.qc, e);
    await t.deliver(consumerNames.qc, first, `${first.id}-again`);
    expect(await money(campaignId)).toMatchObject({ reserved: 120, owed: 30 });
    expect((await assignmentRow(a.id)).fee_hold_amount).toBe(20);

    await deliver(approved(a, submissionId));
    // The rest of the fee hold waits for the verdict's fees (they come on QC's stream) for a while.
    expect(await money(campaignId)).toMatchObject({ reserved: 20, owed: 130 });
    expect((await assignmentRow(a.id)).fee_hold_amount).toBe(20);
    await releaseUnusedFeeHolds(t.tasks.db, { now: new Date(Date.now() + FEE_NEWS_GRACE_MS + 60_000) });
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 130 });
    expect(await assignmentRow(a.id)).toMatchObject({ fee_hold_amount: 0, fee_hold_until: null });

    // A fee counted after that (a re-judging, or later than its time) is owed beyond what the claim held.
    await t.deliver(consumerNames.qc, fee());
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 140 });
  });

  const feeEarned = (a: Claim, submissionId: string, amount = 10) =>
    event('qc.review.fee-earned.v1', {
      review_id: randomUUID(),
      submission_id: submissionId,
      assignment_id: a.id,
      campaign_id: a.campaign_id,
      judge_id: randomUUID(),
      fee: { amount, currency: 'USD' },
    });
  const rewardPaidFor = (a: Claim, submissionId: string, amount = 100) =>
    buildEvent(
      'ledger.reward.paid.v1',
      {
        submission_id: submissionId,
        campaign_id: a.campaign_id,
        contributor_id: a.contributor_id,
        amount: { amount, currency: 'USD' },
        transfer_id: randomUUID(),
        campaign_remaining: { amount: 0, currency: 'USD' },
      },
      { subject: a.campaign_id },
    );
  const feePaid = (fee: TesseraEvent<'qc.review.fee-earned.v1'>) =>
    buildEvent(
      'ledger.judge-fee.paid.v1',
      {
        review_id: fee.data.review_id,
        campaign_id: fee.data.campaign_id,
        judge_id: fee.data.judge_id,
        amount: fee.data.fee,
        transfer_id: randomUUID(),
        campaign_remaining: { amount: 0, currency: 'USD' },
      },
      { subject: fee.data.campaign_id },
    );
  const cancel = (campaignId: string) =>
    t.tasks.db
      .updateTable('campaigns')
      .set({ status: 'cancelled', close_event: 'cancelled' })
      .where('id', '=', campaignId)
      .execute();

  it("keeps the fee hold past an approval handled before the verdict's fees: an ended campaign waits to close until they are booked or their time passed", async () => {
    const { campaignId, taskId } = await taskIn({ judge_fee_amount: 10, max_judges: 5 });
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    // The approval (submissions' stream) is handled before QC's fee events of the same verdict.
    await deliver(approved(a, submissionId));
    expect(await money(campaignId)).toMatchObject({ reserved: 50, owed: 100 });
    await cancel(campaignId);
    await t.deliver(consumerNames.ledger, rewardPaidFor(a, submissionId));
    // Announced now, the ledger would return the escrow the three fees below are paid from.
    expect(await money(campaignId)).toMatchObject({ reserved: 50, owed: 0 });
    expect(await writtenCount('tasks.campaign.cancelled.v1', 'campaign_id', campaignId)).toBe(0);

    const fees = [feeEarned(a, submissionId), feeEarned(a, submissionId), feeEarned(a, submissionId)];
    for (const fee of fees) await t.deliver(consumerNames.qc, fee);
    expect(await money(campaignId)).toMatchObject({ reserved: 20, owed: 30 });
    expect((await assignmentRow(a.id)).fee_hold_amount).toBe(20);
    for (const fee of fees) await t.deliver(consumerNames.ledger, feePaid(fee));
    await releaseUnusedFeeHolds(t.tasks.db, { now: new Date(Date.now() + FEE_NEWS_GRACE_MS - 60_000) });
    expect(await money(campaignId)).toMatchObject({ reserved: 20, owed: 0 });
    expect(await writtenCount('tasks.campaign.cancelled.v1', 'campaign_id', campaignId)).toBe(0);

    // No more fee comes: once their time has passed the rest is freed, and the close announced, once.
    const later = new Date(Date.now() + FEE_NEWS_GRACE_MS + 60_000);
    expect(await releaseUnusedFeeHolds(t.tasks.db, { now: later })).toBeGreaterThanOrEqual(1);
    await releaseUnusedFeeHolds(t.tasks.db, { now: later });
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 0 });
    expect(await assignmentRow(a.id)).toMatchObject({ fee_hold_amount: 0, fee_hold_until: null });
    expect(await writtenCount('tasks.campaign.cancelled.v1', 'campaign_id', campaignId)).toBe(1);
  });

  const verdict = (submissionId: string, value: 'approve' | 'reject' | 'revision') =>
    event('qc.submission.verdict-reached.v1', {
      submission_id: submissionId,
      revision: 1,
      verdict: value,
      method: 'consensus',
      confidence: 0.97,
      quality_score: null,
      reason_codes: [],
      answer: null,
      answer_confidence: null,
    });

  it("frees the rest of the fee hold at QC's final verdict, after its fees on QC's stream; a revision request keeps it", async () => {
    const { campaignId, taskId } = await taskIn({ judge_fee_amount: 10, max_judges: 5 });
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    const round = [feeEarned(a, submissionId), feeEarned(a, submissionId), feeEarned(a, submissionId)];
    for (const fee of round) await t.deliver(consumerNames.qc, fee);
    // A revision request: judging goes on, and its next round's fees need the hold.
    await t.deliver(consumerNames.qc, verdict(submissionId, 'revision'));
    expect((await assignmentRow(a.id)).fee_hold_amount).toBe(20);

    await cancel(campaignId);
    await deliver(approved(a, submissionId));
    await t.deliver(consumerNames.ledger, rewardPaidFor(a, submissionId));
    for (const fee of round) await t.deliver(consumerNames.ledger, feePaid(fee));
    expect(await money(campaignId)).toMatchObject({ reserved: 20, owed: 0 });
    expect(await writtenCount('tasks.campaign.cancelled.v1', 'campaign_id', campaignId)).toBe(0);

    // QC's verdict comes after the fees it counted: none is still on its way, the rest is free.
    await t.deliver(consumerNames.qc, verdict(submissionId, 'approve'));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 0 });
    expect(await assignmentRow(a.id)).toMatchObject({ fee_hold_amount: 0, fee_hold_until: null });
    expect(await writtenCount('tasks.campaign.cancelled.v1', 'campaign_id', campaignId)).toBe(1);
    // Delivered again (or a re-judging's verdict), it frees nothing more.
    await t.deliver(consumerNames.qc, verdict(submissionId, 'approve'));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 0 });
  });

  it('keeps the fee hold past a rejection until its fees are booked; all max_judges fees booked free it at once', async () => {
    const { campaignId, taskId } = await taskIn({ judge_fee_amount: 10, max_judges: 3, judges_required: 3 });
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    await deliver(rejected(a, submissionId));
    // The reward and the slot are free; the fees of the judges who rejected it are still to come.
    expect(await money(campaignId)).toMatchObject({ reserved: 30, owed: 0, quota_taken: 0 });
    for (let i = 0; i < 3; i++) await t.deliver(consumerNames.qc, feeEarned(a, submissionId));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 30 });
    expect(await assignmentRow(a.id)).toMatchObject({ fee_hold_amount: 0, fee_hold_until: null });
  });

  it('owes a judge fee no higher than the claim’s judge fee, whatever the fee event says', async () => {
    const { campaignId, taskId } = await taskIn({ judge_fee_amount: 10, max_judges: 5 });
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    await t.deliver(
      consumerNames.qc,
      event('qc.review.fee-earned.v1', {
        review_id: randomUUID(),
        submission_id: submissionId,
        assignment_id: a.id,
        campaign_id: campaignId,
        judge_id: randomUUID(),
        fee: { amount: 5_000, currency: 'USD' },
      }),
    );
    // The ledger pays (or refuses) 10 at most and answers that: owed settles at 0, never stuck.
    expect(await money(campaignId)).toMatchObject({ reserved: 140, owed: 10 });
  });

  it('pauses the campaign when it cannot hold another claim with its fees, and frees the whole hold on release', async () => {
    const { campaignId, taskId } = await taskIn(
      { judge_fee_amount: 20, max_judges: 5 },
      { budget_amount: 399, funded_amount: 399 },
    );
    const first = await claim(taskId);
    // 399 - 200 = 199 left: the reward alone (100) would fit, the reward and five fees (200) do not.
    expect(await money(campaignId)).toMatchObject({
      reserved: 200,
      status: 'paused',
      pause_reason: 'budget_exhausted',
    });
    const token = await t.token({ sub: randomUUID(), role: 'contributor' });
    const refused = await t.inject({ method: 'POST', url: `/api/v1/tasks/${taskId}/claim`, token });
    expect(refused.status).toBe(409);
    const contributor = await t.token({ sub: first.contributor_id, role: 'contributor' });
    const released = await t.inject({
      method: 'POST',
      url: `/api/v1/assignments/${first.id}/release`,
      token: contributor,
    });
    expect(released.status).toBe(200);
    expect(await money(campaignId)).toMatchObject({ reserved: 0, quota_taken: 0, status: 'active' });
  });
});

describe('an approved submission', () => {
  it('turns the reserved reward into money owed and counts the approval', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));

    await deliver(approved(a, submissionId));

    const row = await assignmentRow(a.id);
    expect(row).toMatchObject({ status: 'approved', submission_id: submissionId });
    expect(row.settled_at).toBeInstanceOf(Date);
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, approved_count: 1, status: 'active' });
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 100, quota_taken: 1, approved: 1 });
  });

  it('counts once when the same event is delivered twice under another message id', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    const approval = approved(a, submissionId);

    await deliver(approval);
    await t.publish(approval, randomUUID());
    // Handled in stream order: once this later event is handled, so is the duplicate.
    const b = await claim(taskId);
    await deliver(received(b));

    expect(await taskRow(taskId)).toMatchObject({ approved_count: 1, submitted_count: 2 });
    expect(await money(campaignId)).toMatchObject({ owed: 100, approved: 1, reserved: 100 });
  });

  it('counts once when re-sent as another event', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));

    await deliver(approved(a, submissionId));
    await deliver(approved(a, submissionId));

    expect(await money(campaignId)).toMatchObject({ owed: 100, approved: 1, reserved: 0 });
  });

  it('counts the receipt too when it arrives before its received event', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();

    await deliver(approved(a, submissionId, 80));
    await deliver(received(a, submissionId));

    expect((await assignmentRow(a.id)).status).toBe('approved');
    expect(await taskRow(taskId)).toMatchObject({ slots_taken: 1, submitted_count: 1, approved_count: 1 });
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 80, received: 1, approved: 1 });
  });

  it('never owes more than the claim fixed, whatever the approval says', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    await deliver(approved(a, submissionId, 5_000));
    expect(await money(campaignId)).toMatchObject({ reserved: 0, owed: 100, approved: 1 });
  });

  it('books nothing for a second approval of the same claim under another submission', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const submissionId = randomUUID();
    await deliver(received(a, submissionId));
    await deliver(approved(a, submissionId));
    await deliver(approved(a, randomUUID()));
    expect(await assignmentRow(a.id)).toMatchObject({ status: 'approved', submission_id: submissionId });
    expect(await money(campaignId)).toMatchObject({ owed: 100, approved: 1 });
  });

  it('finds the claim without an assignment id, by the submission or by task and contributor', async () => {
    const { campaignId, taskId } = await taskIn();
    const a = await claim(taskId);
    const b = await claim(taskId);
    const first = randomUUID();
    await deliver(received(a, first));
    const { assignment_id: _a, ...byTaskAndContributor } = approved(b, randomUUID()).data;
    const { assignment_id: _b, ...bySubmission } = approved(a, first).data;

    await deliver(event('submissions.submission.approved.v1', bySubmission));
    await deliver(event('submissions.submission.approved.v1', byTaskAndContributor));

    expect((await assignmentRow(a.id)).status).toBe('approved');
    expect((await assignmentRow(b.id)).status).toBe('approved');
    expect(await money(campaignId)).toMatchObject({ owed: 200, approved: 2, received: 2, reserved: 0 });
  });

  it('completes the task, once, when its approvals reach max_submissions', async () => {
    const { taskId } = await taskIn({ max_submissions: 2 });
    const a = await claim(taskId);
    const b = await claim(taskId);
    const [sa, sb] = [randomUUID(), randomUUID()];
    await deliver(received(a, sa));
    await deliver(received(b, sb));

    await deliver(approved(a, sa));
    expect((await taskRow(taskId)).status).toBe('active');
    await deliver(approved(b, sb));

    expect(await taskRow(taskId)).toMatchObject({ status: 'completed', approved_count: 2 });
    const [closed] = await t.awaitPublished('tasks.task.closed.v1', (e) => e.data.task_id === taskId);
    expect(closed?.data.reason_code).toBe('completed');
    expect(await writtenCount('tasks.task.closed.v1', 'task_id', taskId)).toBe(1);
  });

  it('re-decides the campaign once for a batch of approvals, as the last of them left it', async () => {
    const { campaignId, taskId } = await taskIn({}, { target_count: 2 });
    const [a, b] = [await claim(taskId), await claim(taskId)];
    const [sa, sb] = [randomUUID(), randomUUID()];
    await deliver(received(a, sa));
    await deliver(received(b, sb));
    const batch = [approved(a, sa), approved(b, sb)];

    // The consumer's own parts, as the kit runs them for a batch: locks, handlers, then beforeCommit.
    const spec = tasksConsumers({ logger: t.tasks.logger, clock: () => new Date() }).find(
      (c) => c.name === consumerNames.submissions,
    )!;
    let reconciles = 0;
    const counting: KyselyPlugin = {
      transformQuery({ node }) {
        // campaigns/repository.ts `cheapestOpenHold`: read once by each re-decision.
        if (SelectQueryNode.is(node) && JSON.stringify(node).includes('claim_hold_amount')) reconciles += 1;
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    await t.tasks.db.transaction().execute(async (plain) => {
      const trx = plain.withPlugin(counting);
      await spec.lockFirst!(trx, batch);
      for (const e of batch) await spec.handlers[e.type]!(e, trx);
      expect(reconciles).toBe(0);
      await spec.beforeCommit!(trx, batch);
    });

    expect(reconciles).toBe(1);
    expect(await money(campaignId)).toMatchObject({
      status: 'paused',
      pause_reason: 'target_reached',
      approved: 2,
    });
    const paused = await t.written('tasks.campaign.paused.v1', 'campaign_id', campaignId);
    expect(paused.map((e) => [e.data.reason_code, e.causationid])).toEqual([
      ['target_reached', batch[1]!.id],
    ]);
  });

  it('pauses the campaign when its approvals reach the target, after the second of two', async () => {
    const { campaignId, taskId } = await taskIn({}, { target_count: 2 });
    const a = await claim(taskId);
    const b = await claim(taskId);
    const [sa, sb] = [randomUUID(), randomUUID()];
    await deliver(received(a, sa));
    await deliver(received(b, sb));

    await deliver(approved(a, sa));
    expect((await money(campaignId)).status).toBe('active');

    await deliver(approved(b, sb));

    expect(await money(campaignId)).toMatchObject({
      status: 'paused',
      pause_reason: 'target_reached',
      approved: 2,
    });
    const [paused] = await t.awaitPublished(
      'tasks.campaign.paused.v1',
      (e) => e.data.campaign_id === campaignId,
    );
    expect(paused?.data.reason_code).toBe('target_reached');
    expect(await writtenCount('tasks.campaign.paused.v1', 'campaign_id', campaignId)).toBe(1);
  });
});
