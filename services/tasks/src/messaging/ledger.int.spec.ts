import { randomUUID } from 'node:crypto';
import { buildEvent, type EventData, type TesseraEvent } from '@tessera/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTasks, type TestTasks, type Written } from '../testing/harness.ts';
import { consumerNames } from './consumers.ts';

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks({}, { background: { schedule: false, expiry: false } });
});

afterAll(async () => {
  await t?.stop();
});

const usd = (amount: number) => ({ amount, currency: 'USD' });
const future = (days = 30) => new Date(Date.now() + days * 86_400_000).toISOString();

const deliver = (event: TesseraEvent, msgID?: string) => t.deliver(consumerNames.ledger, event, msgID);

async function company() {
  const id = randomUUID();
  const managerId = randomUUID();
  await t.fixtures.member(id, managerId, 'manager');
  return { id, manager: await t.token({ sub: managerId, role: 'company' }) };
}

const row = (id: string) =>
  t.tasks.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const money = async (id: string) => {
  const c = await row(id);
  return {
    funded: Number(c.funded_amount),
    spent: Number(c.spent_amount),
    returned: Number(c.returned_amount),
    owed: Number(c.owed_amount),
    budget: Number(c.budget_amount),
  };
};

/** A draft activated through the API, and the funding request it sent the ledger. */
async function activated(budget = 20_000, values: Record<string, unknown> = {}) {
  const a = await company();
  const created = await t.inject({
    method: 'POST',
    url: '/api/v1/campaigns',
    token: a.manager,
    body: { company_id: a.id, name: 'Voice', budget: usd(budget), end_at: future(), ...values },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.campaign.id;
  const response = await t.inject({
    method: 'POST',
    url: `/api/v1/campaigns/${id}/activate`,
    token: a.manager,
  });
  expect(response.status).toBe(202);
  const [request] = await t.written('tasks.campaign.funding-requested.v1', 'campaign_id', id);
  return { id, companyId: a.id, manager: a.manager, request: request! };
}

/** The ledger's answer to a funding request, caused by it (as the ledger builds it). */
function funded(request: Written, amount: number, id?: string) {
  const data = request.data as EventData<'tasks.campaign.funding-requested.v1'>;
  return buildEvent(
    'ledger.campaign.funded.v1',
    {
      campaign_id: data.campaign_id,
      company_id: data.company_id,
      budget: usd(amount),
      fee: usd(Math.round(amount / 10)),
      transfer_ids: [randomUUID(), randomUUID()],
    },
    {
      subject: data.campaign_id,
      causationId: request.id,
      correlationId: request.correlationid,
      ...(id ? { id } : {}),
    },
  );
}

function rejected(request: Written, reason = 'INSUFFICIENT_FUNDS') {
  const data = request.data as EventData<'tasks.campaign.funding-requested.v1'>;
  return buildEvent(
    'ledger.campaign.funding-rejected.v1',
    {
      campaign_id: data.campaign_id,
      company_id: data.company_id,
      budget: data.budget,
      reason_code: reason,
      detail: 'The company has 1000 USD of credits; 22000 are needed.',
    },
    { subject: data.campaign_id, causationId: request.id, correlationId: request.correlationid },
  );
}

const judgeFee = (campaignId: string, amount: number) =>
  buildEvent(
    'ledger.judge-fee.paid.v1',
    {
      review_id: randomUUID(),
      campaign_id: campaignId,
      judge_id: randomUUID(),
      amount: usd(amount),
      transfer_id: randomUUID(),
      campaign_remaining: usd(0),
    },
    { subject: campaignId },
  );

/** QC counted a review: the fee is owed (the ledger's paid event then moves it to spent). */
const feeEarned = (campaignId: string, amount: number) =>
  buildEvent(
    'qc.review.fee-earned.v1',
    {
      review_id: randomUUID(),
      submission_id: randomUUID(),
      campaign_id: campaignId,
      judge_id: randomUUID(),
      fee: usd(amount),
    },
    { subject: campaignId },
  );
const earnAndPay = async (campaignId: string, amount: number) => {
  await t.deliver(consumerNames.qc, feeEarned(campaignId, amount));
  await deliver(judgeFee(campaignId, amount));
};

const rewardPaid = (campaignId: string, amount: number) =>
  buildEvent(
    'ledger.reward.paid.v1',
    {
      submission_id: randomUUID(),
      campaign_id: campaignId,
      contributor_id: randomUUID(),
      amount: usd(amount),
      transfer_id: randomUUID(),
      campaign_remaining: usd(0),
    },
    { subject: campaignId },
  );

const rewardFailed = (campaignId: string, amount: number) =>
  buildEvent(
    'ledger.reward.failed.v1',
    {
      submission_id: randomUUID(),
      campaign_id: campaignId,
      contributor_id: randomUUID(),
      amount: usd(amount),
      reason_code: 'INSUFFICIENT_FUNDS',
    },
    { subject: campaignId },
  );

const budgetReturned = (campaignId: string, companyId: string, amount: number) =>
  buildEvent(
    'ledger.campaign.budget-returned.v1',
    { campaign_id: campaignId, company_id: companyId, amount: usd(amount), transfer_id: randomUUID() },
    { subject: campaignId },
  );

describe('activation', () => {
  it('activates a campaign once the ledger funded it, and says so', async () => {
    const { id, companyId, request } = await activated(20_000);
    const answer = funded(request, 20_000);
    await deliver(answer);

    const campaign = await row(id);
    expect(campaign).toMatchObject({ status: 'active', pause_reason: null, last_funding_error: null });
    expect(await money(id)).toMatchObject({ funded: 20_000, budget: 20_000 });
    const fundingRequest = await t.tasks.db
      .selectFrom('campaign_funding_requests')
      .selectAll()
      .where('event_id', '=', request.id)
      .executeTakeFirstOrThrow();
    expect(fundingRequest.status).toBe('funded');
    expect(fundingRequest.answered_at).not.toBeNull();

    const [event] = await t.awaitPublished('tasks.campaign.activated.v1', (e) => e.data.campaign_id === id);
    expect(event!.data).toEqual({ campaign_id: id, company_id: companyId, funded: usd(20_000) });
    expect(event!.causationid).toBe(answer.id);
    expect(event!.correlationid).toBe(request.correlationid);
  });

  it('returns a refused activation to draft with the reason, and lets it be activated again', async () => {
    const { id, manager, request } = await activated(22_000);
    const answer = rejected(request);
    await deliver(answer);

    const campaign = await row(id);
    expect(campaign.status).toBe('draft');
    expect(campaign.last_funding_error).toEqual({
      code: 'INSUFFICIENT_FUNDS',
      detail: 'The company has 1000 USD of credits; 22000 are needed.',
      at: answer.time,
    });
    expect(Number(campaign.funded_amount)).toBe(0);
    expect(await t.written('tasks.campaign.activated.v1', 'campaign_id', id)).toHaveLength(0);
    const shown = await t.inject({ url: `/api/v1/campaigns/${id}`, token: manager });
    expect(shown.body.campaign.last_funding_error).toEqual({
      code: 'INSUFFICIENT_FUNDS',
      detail: expect.any(String),
      at: answer.time,
    });

    // Try again: a new request, and this time the ledger funds it.
    const again = await t.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/activate`, token: manager });
    expect(again.status).toBe(202);
    const requests = await t.written('tasks.campaign.funding-requested.v1', 'campaign_id', id);
    expect(requests).toHaveLength(2);
    await deliver(funded(requests[1]!, 22_000));
    expect(await row(id)).toMatchObject({ status: 'active', last_funding_error: null });
  });

  it('applies a funded event once, even delivered twice', async () => {
    const { id, request } = await activated(10_000);
    const answer = funded(request, 10_000);
    await deliver(answer);
    // The same event again under another NATS message id (JetStream would drop the same msgID).
    await t.publish(answer, randomUUID());
    // The consumer handles its stream in order: once this one is in, the copy was seen too.
    await deliver(budgetReturned(randomUUID(), randomUUID(), 0));
    expect(await money(id)).toMatchObject({ funded: 10_000 });
    expect(await t.written('tasks.campaign.activated.v1', 'campaign_id', id)).toHaveLength(1);
  });

  it('keeps only the first answer to a request', async () => {
    const { id, request } = await activated(10_000);
    await deliver(funded(request, 10_000));
    // Another event (another id) answering the same request changes nothing.
    await deliver(funded(request, 10_000));
    await deliver(rejected(request));
    expect(await money(id)).toMatchObject({ funded: 10_000 });
    expect(await row(id)).toMatchObject({ status: 'active', last_funding_error: null });
  });

  it('ignores answers to requests it never made', async () => {
    const { id, request } = await activated(10_000);
    const stranger = buildEvent('tasks.campaign.funding-requested.v1', request.data, { subject: id });
    await deliver(funded(stranger, 10_000));
    await deliver(rejected(stranger));
    expect(await row(id)).toMatchObject({ status: 'funding', funded_amount: 0, last_funding_error: null });
    const deadLetters = await t.tasks.db.selectFrom('dead_letters').select('event_id').execute();
    expect(deadLetters).toEqual([]);
  });
});

describe('top-ups and the budget', () => {
  it('pauses when a judge fee leaves less than the cheapest reward, and resumes once topped up', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      budget_amount: 250,
      funded_amount: 250,
    });
    await t.fixtures.task(id, { reward_amount: 200 });

    await earnAndPay(id, 100);
    expect(await row(id)).toMatchObject({ status: 'paused', pause_reason: 'budget_exhausted' });
    expect(await money(id)).toMatchObject({ funded: 250, spent: 100, owed: 0 });
    const [paused] = await t.written('tasks.campaign.paused.v1', 'campaign_id', id);
    expect(paused!.data).toEqual({ campaign_id: id, company_id: a.id, reason_code: 'budget_exhausted' });

    const topUp = await t.inject({
      method: 'POST',
      url: `/api/v1/campaigns/${id}/top-up`,
      token: a.manager,
      body: { amount: usd(1_000) },
    });
    expect(topUp.status).toBe(202);
    expect(topUp.body.campaign).toMatchObject({ status: 'paused', available: usd(150) });
    const [request] = await t.written('tasks.campaign.funding-requested.v1', 'campaign_id', id);
    await deliver(funded(request!, 1_000));

    expect(await row(id)).toMatchObject({ status: 'active', pause_reason: null });
    expect(await money(id)).toMatchObject({ funded: 1_250, budget: 1_250 });
    await t.awaitPublished('tasks.campaign.resumed.v1', (e) => e.data.campaign_id === id);
    // A top-up is no activation.
    expect(await t.written('tasks.campaign.activated.v1', 'campaign_id', id)).toHaveLength(0);
  });

  it('records a refused top-up without changing the campaign', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({ company_id: a.id });
    await t.inject({
      method: 'POST',
      url: `/api/v1/campaigns/${id}/top-up`,
      token: a.manager,
      body: { amount: usd(1_000) },
    });
    const [request] = await t.written('tasks.campaign.funding-requested.v1', 'campaign_id', id);
    await deliver(rejected(request!, 'INSUFFICIENT_FUNDS'));
    const campaign = await row(id);
    expect(campaign.status).toBe('active');
    expect(campaign.last_funding_error).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(await money(id)).toMatchObject({ funded: 1_000_000, budget: 1_000_000 });
    // Answered: the campaign may close now.
    const cancel = await t.inject({
      method: 'POST',
      url: `/api/v1/campaigns/${id}/cancel`,
      token: a.manager,
    });
    expect(cancel.status).toBe(200);
  });

  it('counts a reward paid ahead of its approval once, and pauses when a judge fee then runs the budget short', async () => {
    // A claim under review holds 600; the ledger pays it (spent) before its approval reaches tasks.
    const { id } = await t.fixtures.activeCampaign({ funded_amount: 1_000, reserved_amount: 600 });
    await t.fixtures.task(id, { reward_amount: 300 });
    await deliver(rewardPaid(id, 600));
    // Spent counts it now and owed will cancel out when the approval arrives: 1000 - 600 - 600 + 600.
    expect(await money(id)).toMatchObject({ spent: 600, owed: -600 });
    expect((await row(id)).status).toBe('active');
    // A judge fee then leaves 1000 - 600 (spent) - 600 (reserved) + 600 (owed) - 150 = 250 < 300.
    await earnAndPay(id, 150);
    expect(await row(id)).toMatchObject({ status: 'paused', pause_reason: 'budget_exhausted' });
  });

  it("counts a judge fee once whichever of QC's fee-earned and the ledger's paid arrives first", async () => {
    const { id } = await t.fixtures.activeCampaign({ funded_amount: 1_000 });
    await t.fixtures.task(id, { reward_amount: 100 });
    // Paid first: spent counts it and owed goes below zero until QC's event arrives.
    const paid = judgeFee(id, 70);
    await deliver(paid);
    expect(await money(id)).toMatchObject({ spent: 70, owed: -70 });
    await t.deliver(consumerNames.qc, feeEarned(id, 70));
    expect(await money(id)).toMatchObject({ spent: 70, owed: 0 });
    // Redelivered, neither counts twice.
    await deliver(paid, paid.id);
    expect(await money(id)).toMatchObject({ spent: 70, owed: 0 });
  });

  it('frees a judge fee the ledger could not pay', async () => {
    const { id } = await t.fixtures.activeCampaign({ funded_amount: 1_000 });
    await t.fixtures.task(id, { reward_amount: 100 });
    const earned = feeEarned(id, 40);
    await t.deliver(consumerNames.qc, earned);
    expect(await money(id)).toMatchObject({ owed: 40 });
    await deliver(
      buildEvent(
        'ledger.judge-fee.failed.v1',
        {
          review_id: earned.data.review_id,
          campaign_id: id,
          judge_id: earned.data.judge_id,
          amount: usd(40),
          reason_code: 'INSUFFICIENT_FUNDS',
        },
        { subject: id },
      ),
    );
    expect(await money(id)).toMatchObject({ spent: 0, owed: 0 });
  });

  it('turns what was owed into spent when a reward is paid, without pausing', async () => {
    const { id } = await t.fixtures.activeCampaign({ funded_amount: 1_000, owed_amount: 400 });
    await t.fixtures.task(id, { reward_amount: 100 });
    await deliver(rewardPaid(id, 400));
    expect(await money(id)).toMatchObject({ spent: 400, owed: 0 });
    expect((await row(id)).status).toBe('active');
  });

  it('frees what an unpaid reward held when the ledger could not pay it, which may resume the campaign', async () => {
    const { id } = await t.fixtures.activeCampaign({
      funded_amount: 1_000,
      owed_amount: 950,
      status: 'paused',
      pause_reason: 'budget_exhausted',
    });
    await t.fixtures.task(id, { reward_amount: 100 });
    await deliver(rewardFailed(id, 950));
    expect(await money(id)).toMatchObject({ spent: 0, owed: 0 });
    expect(await row(id)).toMatchObject({ status: 'active', pause_reason: null });
  });

  it('records what the ledger returned', async () => {
    const { id, company_id } = await t.fixtures.activeCampaign({ funded_amount: 1_000, status: 'completed' });
    await deliver(budgetReturned(id, company_id, 700));
    expect(await money(id)).toMatchObject({ returned: 700 });
  });

  it('ignores money movements of campaigns it does not know', async () => {
    const stranger = randomUUID();
    for (const event of [judgeFee(stranger, 5), rewardPaid(stranger, 5), rewardFailed(stranger, 5)]) {
      await deliver(event);
    }
    await deliver(budgetReturned(stranger, randomUUID(), 5));
    expect(
      await t.tasks.db.selectFrom('campaigns').select('id').where('id', '=', stranger).execute(),
    ).toEqual([]);
    expect(await t.tasks.db.selectFrom('dead_letters').select('event_id').execute()).toEqual([]);
  });
});

describe('closing', () => {
  it('announces a completed campaign only once its last approved reward is paid', async () => {
    const a = await company();
    const { id } = await t.fixtures.activeCampaign({
      company_id: a.id,
      funded_amount: 5_000,
      owed_amount: 300,
    });
    const done = await t.inject({
      method: 'POST',
      url: `/api/v1/campaigns/${id}/complete`,
      token: a.manager,
    });
    expect(done.body.campaign.status).toBe('completed');
    expect(await t.written('tasks.campaign.completed.v1', 'campaign_id', id)).toHaveLength(0);

    await deliver(rewardPaid(id, 300));
    const [completed] = await t.written('tasks.campaign.completed.v1', 'campaign_id', id);
    expect(completed!.data).toEqual({ campaign_id: id, company_id: a.id });

    // The returned budget arrives; nothing is announced again.
    await deliver(budgetReturned(id, a.id, 4_700));
    await deliver(judgeFee(id, 0));
    expect(await t.written('tasks.campaign.completed.v1', 'campaign_id', id)).toHaveLength(1);
    expect(await money(id)).toMatchObject({ funded: 5_000, spent: 300, returned: 4_700, owed: 0 });
    expect((await row(id)).status).toBe('completed');
  });
});
