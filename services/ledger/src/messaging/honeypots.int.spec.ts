// A judge's review of a honeypot (a decided case QC serves again to check judges) is paid like any
// review: platform:quality funds the case's campaign budget and the budget pays the judge, linked,
// bounded by the case's claim and once per (judge, submission); the judge's statement cannot tell.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds } from '../domain/accounts.ts';
import { foreign, startTestLedger, type TestLedger, usd } from './testing.ts';
import { transferIds } from './transfer-ids.ts';

let t: TestLedger;

beforeAll(async () => {
  t = await startTestLedger();
});

afterAll(async () => {
  await t?.stop();
});

const balance = (accountId: string) => t.available(accountId);
const recorded = (transferId: string) => t.recorded(transferId);
const outcomesOf = async (reviewId: string) => [
  ...(await t.written('ledger.honeypot-fee.paid.v1', 'review_id', reviewId)),
  ...(await t.written('ledger.honeypot-fee.failed.v1', 'review_id', reviewId)),
];

/** A decided case: a funded campaign (50,000 budget) and a claim whose judges earn 75 each. */
async function decidedCase() {
  const { campaignId } = await t.fundedCampaign();
  const assignmentId = await t.claim({
    campaignId,
    contributorId: randomUUID(),
    reward: 1_000,
    judgeFee: 75,
  });
  return { campaignId, assignmentId, submissionId: randomUUID() };
}

const honeypotFee = (
  kase: { campaignId: string; assignmentId: string; submissionId: string },
  judgeId: string,
  fee = usd(75),
) =>
  foreign('qc.honeypot.fee-earned.v1', {
    review_id: randomUUID(),
    submission_id: kase.submissionId,
    assignment_id: kase.assignmentId,
    campaign_id: kase.campaignId,
    judge_id: judgeId,
    fee,
  });

describe('a honeypot review’s fee', () => {
  it('is paid from platform:quality through the campaign’s budget, which ends where it was', async () => {
    const kase = await decidedCase();
    const judge = randomUUID();
    const qualityBefore = await balance(accountIds.platformQuality);
    const earned = honeypotFee(kase, judge);
    await t.deliver('ledger-qc', earned);

    const [paid] = await t.outcomes('ledger.honeypot-fee.paid.v1', earned.id);
    expect(paid!.data).toEqual({
      review_id: earned.data.review_id,
      campaign_id: kase.campaignId,
      judge_id: judge,
      amount: usd(75),
      transfer_ids: [
        transferIds.honeypotFunding(earned.data.review_id),
        transferIds.honeypotFee(earned.data.review_id),
      ],
    });
    expect(await outcomesOf(earned.data.review_id)).toHaveLength(1);
    expect(await balance(accountIds.userAvailable(judge))).toBe(75);
    expect(await balance(accountIds.campaignBudget(kase.campaignId))).toBe(50_000);
    expect(await balance(accountIds.platformQuality)).toBe(qualityBefore - 75);
    const fee = await t.ledger.resources.engine.getTransfer(transferIds.honeypotFee(earned.data.review_id));
    expect(fee).toMatchObject({
      debit_account: accountIds.campaignBudget(kase.campaignId),
      credit_account: accountIds.userAvailable(judge),
      code: 'judge_fee',
      linked_ids: paid!.data.transfer_ids,
    });
  });

  it('reads on the judge’s statement as a real judge fee does: same cause, same counterparty', async () => {
    const kase = await decidedCase();
    const judge = randomUUID();
    // A real review under another claim of the same campaign, and a honeypot review.
    const real = foreign('qc.review.fee-earned.v1', {
      review_id: randomUUID(),
      submission_id: randomUUID(),
      assignment_id: await t.claim({
        campaignId: kase.campaignId,
        contributorId: randomUUID(),
        reward: 0,
        judgeFee: 60,
      }),
      campaign_id: kase.campaignId,
      judge_id: judge,
      fee: usd(60),
    });
    const honeypot = honeypotFee(kase, judge);
    await t.deliver('ledger-qc', real);
    await t.deliver('ledger-qc', honeypot);
    await t.outcomes('ledger.judge-fee.paid.v1', real.id);
    await t.outcomes('ledger.honeypot-fee.paid.v1', honeypot.id);
    await t.projected();

    const token = await t.token({ sub: judge });
    const statement = await t.inject({ url: '/api/v1/wallet/transactions', token });
    expect(statement.status).toBe(200);
    type Line = {
      code: string;
      direction: string;
      phase: string;
      counterparty: string;
      amount: { amount: number };
      metadata: Record<string, string>;
      cause: Record<string, string>;
    };
    const lines = statement.body.items as Line[];
    expect(lines).toHaveLength(2);
    const [honeypotLine, realLine] = lines as [Line, Line];
    expect([realLine.amount.amount, honeypotLine.amount.amount]).toEqual([60, 75]);
    // Every field but amounts and ids is the same; the ids' names are too.
    const ids = (line: Line, data: { review_id: string; submission_id: string }) =>
      JSON.stringify(line)
        .replaceAll(data.review_id, '<review>')
        .replaceAll(data.submission_id, '<submission>')
        .replaceAll(data.review_id.slice(0, 8), '<review>')
        .replaceAll(data.submission_id.slice(0, 8), '<submission>');
    const shape = (line: Line, data: { review_id: string; submission_id: string }) => {
      const { code, direction, phase, counterparty, metadata, cause } = JSON.parse(ids(line, data)) as Line;
      return { code, direction, phase, counterparty, metadata, cause };
    };
    expect(shape(honeypotLine, honeypot.data)).toEqual(shape(realLine, real.data));
    expect(honeypotLine).toMatchObject({
      code: 'judge_fee',
      counterparty: accountIds.campaignBudget(kase.campaignId),
      cause: { kind: 'judge_fee', review_id: honeypot.data.review_id },
    });

    // The company reads, on its campaign's statement, that the platform funded it.
    const admin = await t.token({ role: 'admin' });
    const budget = await t.inject({
      url: `/api/v1/admin/ledger/accounts/${accountIds.campaignBudget(kase.campaignId)}`,
      token: admin,
    });
    const campaignLines = budget.body.balances[0].recent_lines as Line[];
    expect(campaignLines.find((line) => line.code === 'honeypot_funding')).toMatchObject({
      direction: 'credit',
      counterparty: accountIds.platformQuality,
      cause: {
        kind: 'honeypot_funding',
        description: expect.stringMatching(/^Platform-funded fee for a judge's check review/),
      },
    });
  });

  it.each([
    ['above the claim’s judge fee', usd(76), 'CLAIM_FEE_EXCEEDED'],
    ['in another currency than the claim’s', { amount: 75, currency: 'EUR' }, 'CURRENCY_MISMATCH'],
  ])('is refused %s, and nothing moves', async (_, fee, reason) => {
    const kase = await decidedCase();
    const judge = randomUUID();
    const qualityBefore = await balance(accountIds.platformQuality);
    const earned = honeypotFee(kase, judge, fee);
    await t.deliver('ledger-qc', earned);

    const [failed] = await t.outcomes('ledger.honeypot-fee.failed.v1', earned.id);
    expect(failed!.data).toEqual({
      review_id: earned.data.review_id,
      campaign_id: kase.campaignId,
      judge_id: judge,
      amount: fee,
      reason_code: reason,
    });
    expect(await outcomesOf(earned.data.review_id)).toHaveLength(1);
    expect(await recorded(transferIds.honeypotFunding(earned.data.review_id))).toBe(0);
    expect(await recorded(transferIds.honeypotFee(earned.data.review_id))).toBe(0);
    expect(await balance(accountIds.userAvailable(judge))).toBe(0);
    expect(await balance(accountIds.platformQuality)).toBe(qualityBefore);
    expect(await balance(accountIds.campaignBudget(kase.campaignId))).toBe(50_000);
  });

  it('is refused for a second review of the same case by the same judge, and nothing more moves', async () => {
    const kase = await decidedCase();
    const judge = randomUUID();
    const first = honeypotFee(kase, judge);
    await t.deliver('ledger-qc', first);
    await t.outcomes('ledger.honeypot-fee.paid.v1', first.id);
    const qualityAfterFirst = await balance(accountIds.platformQuality);

    const second = honeypotFee(kase, judge);
    await t.deliver('ledger-qc', second);
    const [failed] = await t.outcomes('ledger.honeypot-fee.failed.v1', second.id);
    expect(failed!.data).toMatchObject({ amount: usd(75), reason_code: 'HONEYPOT_FEE_ALREADY_PAID' });
    expect(await outcomesOf(second.data.review_id)).toHaveLength(1);
    expect(await recorded(transferIds.honeypotFunding(second.data.review_id))).toBe(0);
    expect(await recorded(transferIds.honeypotFee(second.data.review_id))).toBe(0);
    expect(await balance(accountIds.userAvailable(judge))).toBe(75);
    expect(await balance(accountIds.platformQuality)).toBe(qualityAfterFirst);

    // Another judge checked on the same case is paid.
    const other = honeypotFee(kase, randomUUID());
    await t.deliver('ledger-qc', other);
    await t.outcomes('ledger.honeypot-fee.paid.v1', other.id);
  });

  it('is refused to a judge the claim paid as one of its own judges', async () => {
    const kase = await decidedCase();
    const judge = randomUUID();
    const real = foreign('qc.review.fee-earned.v1', {
      review_id: randomUUID(),
      submission_id: kase.submissionId,
      assignment_id: kase.assignmentId,
      campaign_id: kase.campaignId,
      judge_id: judge,
      fee: usd(75),
    });
    await t.deliver('ledger-qc', real);
    await t.outcomes('ledger.judge-fee.paid.v1', real.id);
    const qualityBefore = await balance(accountIds.platformQuality);

    const check = honeypotFee(kase, judge);
    await t.deliver('ledger-qc', check);
    const [failed] = await t.outcomes('ledger.honeypot-fee.failed.v1', check.id);
    expect(failed!.data).toMatchObject({ reason_code: 'HONEYPOT_FEE_ALREADY_PAID' });
    expect(await recorded(transferIds.honeypotFee(check.data.review_id))).toBe(0);
    expect(await balance(accountIds.userAvailable(judge))).toBe(75);
    expect(await balance(accountIds.platformQuality)).toBe(qualityBefore);
  });

  it('is paid once when delivered again, as the same event or re-sent as a new one', async () => {
    const kase = await decidedCase();
    const judge = randomUUID();
    const qualityBefore = await balance(accountIds.platformQuality);
    const earned = honeypotFee(kase, judge);
    await t.deliver('ledger-qc', earned, 'copy-1');
    await t.deliver('ledger-qc', earned, 'copy-2');
    await t.deliver('ledger-qc', { ...earned, id: randomUUID() });

    const outcomes = await outcomesOf(earned.data.review_id);
    expect(outcomes.map((e) => e.type)).toEqual(['ledger.honeypot-fee.paid.v1']);
    expect(await recorded(transferIds.honeypotFunding(earned.data.review_id))).toBe(1);
    expect(await recorded(transferIds.honeypotFee(earned.data.review_id))).toBe(1);
    expect(await balance(accountIds.userAvailable(judge))).toBe(75);
    expect(await balance(accountIds.platformQuality)).toBe(qualityBefore - 75);
    expect(await balance(accountIds.campaignBudget(kase.campaignId))).toBe(50_000);
  });

  it('is retried while its claim is not known yet, and paid once it is', async () => {
    const { campaignId } = await t.fundedCampaign();
    const judge = randomUUID();
    const early = honeypotFee({ campaignId, assignmentId: randomUUID(), submissionId: randomUUID() }, judge);
    await t.publish(early);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await balance(accountIds.userAvailable(judge))).toBe(0);
    expect(await outcomesOf(early.data.review_id)).toEqual([]);

    await t.deliver(
      'ledger-tasks',
      foreign('tasks.assignment.claimed.v1', {
        assignment_id: early.data.assignment_id,
        task_id: randomUUID(),
        campaign_id: campaignId,
        company_id: randomUUID(),
        contributor_id: randomUUID(),
        reward: usd(1_000),
        judge_fee: usd(75),
        xp_reward: 0,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    const [paid] = await t.outcomes('ledger.honeypot-fee.paid.v1', early.id);
    expect(paid!.data.amount).toEqual(usd(75));
    expect(await outcomesOf(early.data.review_id)).toHaveLength(1);
    expect(await balance(accountIds.userAvailable(judge))).toBe(75);
  });
});
