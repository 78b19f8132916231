// A handler that fails after the engine moved money rolls its transaction back, and the consumer
// retries it with backoff while later events go ahead: the ledger's decisions must not depend on
// events arriving in order, nor on the handler's transaction having kept what the engine did.
import { failRowWrites, waitFor, waitForHandled } from '@tessera/service-kit/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds, transferStream } from '../domain/accounts.ts';
import { outcomeKey } from './outcomes.ts';
import { foreign, startTestLedger, type TestLedger, usd } from './testing.ts';
import { transferIds } from './transfer-ids.ts';

let t: TestLedger;

beforeAll(async () => {
  // Retries slow enough that the events behind a failing one are handled while it still fails.
  t = await startTestLedger(
    {},
    { consumerOverrides: { backoffMs: [200], ackWaitMs: 2_000, maxDeliver: 50 } },
  );
});

afterAll(async () => {
  await t?.stop();
});

const balance = (accountId: string) => t.available(accountId);
const recorded = (transferId: string) => t.recorded(transferId);
const handled = (consumer: string, eventId: string) => waitForHandled(t.ledger.db, consumer, eventId);
/** The types of the outcomes the ledger wrote about `field` = `value`. */
const outcomesAbout = async (types: Parameters<TestLedger['written']>[0][], field: string, value: string) =>
  (await Promise.all(types.map((type) => t.written(type, field, value)))).flat().map((e) => e.type);

const feeEarned = (campaignId: string, assignmentId: string, judgeId: string) =>
  foreign('qc.review.fee-earned.v1', {
    review_id: randomUUID(),
    submission_id: randomUUID(),
    assignment_id: assignmentId,
    campaign_id: campaignId,
    judge_id: judgeId,
    fee: usd(50),
  });

describe('a judge fee whose handler failed after the engine paid it', () => {
  it('is counted by the fees after it (one per judge, max_judges), and paid, not refused, when retried', async () => {
    const { campaignId } = await t.fundedCampaign();
    const assignmentId = await t.claim({
      campaignId,
      contributorId: randomUUID(),
      reward: 0,
      judgeFee: 50,
      maxJudges: 1,
    });
    const judge = randomUUID();
    const first = feeEarned(campaignId, assignmentId, judge);
    const firstTransfer = transferIds.judgeFee(first.data.review_id);
    // A fault after the engine call: announcing the payment fails, the handler's transaction rolls back.
    const undo = await failRowWrites(t.ledger.db, {
      table: 'ledger_outcomes',
      column: 'key',
      value: outcomeKey('ledger.judge-fee.paid.v1', first.data.review_id),
      on: 'insert',
    });
    let undone = false;
    try {
      await t.publish(first);
      await waitFor(async () => (await recorded(firstTransfer)) === 1, { what: 'the first fee paid' });

      // Behind it on the claim, while it is retried: the same judge (another review), another judge.
      const again = feeEarned(campaignId, assignmentId, judge);
      const other = feeEarned(campaignId, assignmentId, randomUUID());
      await t.deliver('ledger-qc', again);
      await t.deliver('ledger-qc', other);
      expect(
        (await t.written('ledger.judge-fee.failed.v1', 'review_id', again.data.review_id))[0]?.data,
      ).toMatchObject({
        reason_code: 'JUDGE_ALREADY_PAID',
        amount: usd(50),
      });
      expect(
        (await t.written('ledger.judge-fee.failed.v1', 'review_id', other.data.review_id))[0]?.data,
      ).toMatchObject({
        reason_code: 'MAX_JUDGES_PAID',
      });
      expect(await recorded(transferIds.judgeFee(again.data.review_id))).toBe(0);
      expect(await recorded(transferIds.judgeFee(other.data.review_id))).toBe(0);
      expect(await balance(accountIds.userAvailable(judge))).toBe(50);

      await undo();
      undone = true;
      await handled('ledger-qc', first.id);
    } finally {
      if (!undone) await undo();
    }
    expect(
      await outcomesAbout(
        ['ledger.judge-fee.paid.v1', 'ledger.judge-fee.failed.v1'],
        'review_id',
        first.data.review_id,
      ),
    ).toEqual(['ledger.judge-fee.paid.v1']);
    const [paid] = await t.written('ledger.judge-fee.paid.v1', 'review_id', first.data.review_id);
    expect(paid!.data).toMatchObject({ amount: usd(50), transfer_id: firstTransfer });
    expect(await balance(accountIds.userAvailable(judge))).toBe(50);
    expect(await balance(accountIds.campaignBudget(campaignId))).toBe(50_000 - 50);
  });

  it('is paid, as a replay, when its transfer was recorded but the claim never counted it', async () => {
    const { campaignId } = await t.fundedCampaign();
    const assignmentId = await t.claim({ campaignId, contributorId: randomUUID(), reward: 0, judgeFee: 50 });
    const judge = randomUUID();
    const first = feeEarned(campaignId, assignmentId, judge);
    // Recorded by the engine, its row lost with its handler's transaction (before this design).
    const paid = await t.ledger.resources.engine.transfer([
      {
        id: transferIds.judgeFee(first.data.review_id),
        debit_account: accountIds.campaignBudget(campaignId),
        credit_account: accountIds.userAvailable(judge),
        amount: 50,
        currency: 'USD',
        code: 'judge_fee',
        metadata: {
          review_id: first.data.review_id,
          submission_id: first.data.submission_id,
          campaign_id: campaignId,
          judge_id: judge,
        },
      },
    ]);
    expect(paid.ok).toBe(true);
    // Another review by the same judge took the claim's place for it meanwhile.
    const again = feeEarned(campaignId, assignmentId, judge);
    await t.deliver('ledger-qc', again);

    await t.deliver('ledger-qc', first);
    expect(
      await outcomesAbout(
        ['ledger.judge-fee.paid.v1', 'ledger.judge-fee.failed.v1'],
        'review_id',
        first.data.review_id,
      ),
    ).toEqual(['ledger.judge-fee.paid.v1']);
    expect(await recorded(transferIds.judgeFee(first.data.review_id))).toBe(1);
  });
});

describe('a honeypot fee whose handler failed after the engine paid it', () => {
  it('is counted by a second review of the same case by the judge, and paid once, not refused, when retried', async () => {
    const { campaignId } = await t.fundedCampaign();
    const assignmentId = await t.claim({ campaignId, contributorId: randomUUID(), reward: 0, judgeFee: 50 });
    const judge = randomUUID();
    const submissionId = randomUUID();
    const honeypotFee = () =>
      foreign('qc.honeypot.fee-earned.v1', {
        review_id: randomUUID(),
        submission_id: submissionId,
        assignment_id: assignmentId,
        campaign_id: campaignId,
        judge_id: judge,
        fee: usd(50),
      });
    const first = honeypotFee();
    const firstFee = transferIds.honeypotFee(first.data.review_id);
    const qualityBefore = await balance(accountIds.platformQuality);
    const undo = await failRowWrites(t.ledger.db, {
      table: 'ledger_outcomes',
      column: 'key',
      value: outcomeKey('ledger.honeypot-fee.paid.v1', first.data.review_id),
      on: 'insert',
    });
    let undone = false;
    try {
      await t.publish(first);
      await waitFor(async () => (await recorded(firstFee)) === 1, { what: 'the first honeypot fee paid' });

      // Behind it, while it is retried: the same judge's review of the same case again.
      const again = honeypotFee();
      await t.deliver('ledger-qc', again);
      expect(
        (await t.written('ledger.honeypot-fee.failed.v1', 'review_id', again.data.review_id))[0]?.data,
      ).toMatchObject({ reason_code: 'HONEYPOT_FEE_ALREADY_PAID' });
      expect(await recorded(transferIds.honeypotFee(again.data.review_id))).toBe(0);

      await undo();
      undone = true;
      await handled('ledger-qc', first.id);
    } finally {
      if (!undone) await undo();
    }
    expect(
      await outcomesAbout(
        ['ledger.honeypot-fee.paid.v1', 'ledger.honeypot-fee.failed.v1'],
        'review_id',
        first.data.review_id,
      ),
    ).toEqual(['ledger.honeypot-fee.paid.v1']);
    expect(await recorded(firstFee)).toBe(1);
    expect(await recorded(transferIds.honeypotFunding(first.data.review_id))).toBe(1);
    expect(await balance(accountIds.userAvailable(judge))).toBe(50);
    expect(await balance(accountIds.platformQuality)).toBe(qualityBefore - 50);
    expect(await balance(accountIds.campaignBudget(campaignId))).toBe(50_000);
  });
});

describe('a reward whose handler failed after the engine paid it', () => {
  it('leaves the claim paid for the approvals after it, and is paid, not refused, when retried', async () => {
    const { campaignId } = await t.fundedCampaign();
    const contributor = randomUUID();
    const assignmentId = await t.claim({ campaignId, contributorId: contributor, reward: 700 });
    const approval = () =>
      foreign('submissions.submission.approved.v1', {
        submission_id: randomUUID(),
        assignment_id: assignmentId,
        task_id: randomUUID(),
        campaign_id: campaignId,
        contributor_id: contributor,
        reward: usd(700),
        xp_reward: 0,
      });
    const first = approval();
    const undo = await failRowWrites(t.ledger.db, {
      table: 'ledger_outcomes',
      column: 'key',
      value: outcomeKey('ledger.reward.paid.v1', first.data.submission_id),
      on: 'insert',
    });
    let undone = false;
    try {
      await t.publish(first);
      const firstTransfer = transferIds.reward(first.data.submission_id);
      await waitFor(async () => (await recorded(firstTransfer)) === 1, { what: 'the first reward paid' });
      const second = approval();
      await t.deliver('ledger-submissions', second);
      expect(
        (await t.written('ledger.reward.failed.v1', 'submission_id', second.data.submission_id))[0]?.data,
      ).toMatchObject({ reason_code: 'CLAIM_ALREADY_PAID' });
      expect(await recorded(transferIds.reward(second.data.submission_id))).toBe(0);

      await undo();
      undone = true;
      await handled('ledger-submissions', first.id);
    } finally {
      if (!undone) await undo();
    }
    expect(
      await outcomesAbout(
        ['ledger.reward.paid.v1', 'ledger.reward.failed.v1'],
        'submission_id',
        first.data.submission_id,
      ),
    ).toEqual(['ledger.reward.paid.v1']);
    expect(await balance(accountIds.userAvailable(contributor))).toBe(700);
  });
});

describe('a campaign top-up whose handler failed before the engine moved it', () => {
  it('is refused CAMPAIGN_CLOSED, moving nothing, when the campaign’s completion overtook its retry', async () => {
    const { companyId, campaignId, request } = await t.fundedCampaign(100_000, 30_000);
    await t.outcomes('ledger.campaign.funded.v1', request.id);
    const topUp = foreign(
      'tasks.campaign.funding-requested.v1',
      { campaign_id: campaignId, company_id: companyId, budget: usd(10_000) },
      campaignId,
    );
    const completed = foreign('tasks.campaign.completed.v1', {
      campaign_id: campaignId,
      company_id: companyId,
    });
    // A fault at the engine call: the top-up's append fails, its handler throws and is retried.
    const undo = await failRowWrites(t.ledger.db, {
      table: 'es_events',
      column: 'stream',
      value: transferStream(transferIds.funding(topUp.id)),
      on: 'insert',
    });
    let undone = false;
    try {
      await t.publish(topUp);
      await t.publish(completed);
      await handled('ledger-tasks', completed.id);
      await undo();
      undone = true;
      await handled('ledger-tasks', topUp.id);
    } finally {
      if (!undone) await undo();
    }

    const [returned] = await t.written('ledger.campaign.budget-returned.v1', 'campaign_id', campaignId);
    expect(returned!.data.amount).toEqual(usd(30_000));
    expect(
      await outcomesAbout(
        ['ledger.campaign.funded.v1', 'ledger.campaign.funding-rejected.v1'],
        'campaign_id',
        campaignId,
      ),
    ).toEqual(['ledger.campaign.funded.v1', 'ledger.campaign.funding-rejected.v1']);
    const [rejected] = await t.written('ledger.campaign.funding-rejected.v1', 'campaign_id', campaignId);
    expect(rejected!.data).toMatchObject({ budget: usd(10_000), reason_code: 'CAMPAIGN_CLOSED' });
    expect(await recorded(transferIds.funding(topUp.id))).toBe(0);
    expect(await recorded(transferIds.fee(topUp.id))).toBe(0);
    expect(await balance(accountIds.campaignBudget(campaignId))).toBe(0);
    // Funded 30,000 with a 3,000 fee; all 30,000 came back; nothing of the top-up moved.
    expect(await balance(accountIds.companyCredits(companyId))).toBe(100_000 - 3_000);
  });

  it('is answered funded when it was recorded before the return, which swept it back', async () => {
    const { companyId, campaignId } = await t.fundedCampaign(100_000, 30_000);
    const topUp = foreign(
      'tasks.campaign.funding-requested.v1',
      { campaign_id: campaignId, company_id: companyId, budget: usd(10_000) },
      campaignId,
    );
    const completed = foreign('tasks.campaign.completed.v1', {
      campaign_id: campaignId,
      company_id: companyId,
    });
    // A fault after the engine call: announcing the funding fails, after the top-up moved.
    const undo = await failRowWrites(t.ledger.db, {
      table: 'ledger_outcomes',
      column: 'key',
      value: outcomeKey('ledger.campaign.funded.v1', topUp.id),
      on: 'insert',
    });
    let undone = false;
    try {
      await t.publish(topUp);
      await t.publish(completed);
      await handled('ledger-tasks', completed.id);
      await undo();
      undone = true;
      await handled('ledger-tasks', topUp.id);
    } finally {
      if (!undone) await undo();
    }
    const [returned] = await t.written('ledger.campaign.budget-returned.v1', 'campaign_id', campaignId);
    expect(returned!.data.amount).toEqual(usd(40_000));
    const funded = await t.written('ledger.campaign.funded.v1', 'campaign_id', campaignId);
    expect(funded.map((e) => e.causationid)).toContain(topUp.id);
    expect(await t.written('ledger.campaign.funding-rejected.v1', 'campaign_id', campaignId)).toEqual([]);
    expect(await balance(accountIds.campaignBudget(campaignId))).toBe(0);
    expect(await balance(accountIds.companyCredits(companyId))).toBe(100_000 - 3_000 - 1_000);
  });
});
