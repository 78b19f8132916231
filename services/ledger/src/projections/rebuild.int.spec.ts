import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds } from '../domain/accounts.ts';
import { foreign, startTestLedger, type TestLedger, usd } from '../messaging/testing.ts';
import { compareWithRebuild } from './check.ts';
import { rebuildProjections } from './projector.ts';
import { PROJECTOR_NAME, type ProjectionTables, projectionTables } from './schema.ts';

let t: TestLedger;
const db = () => t.ledger.db as unknown as Kysely<ProjectionTables>;

beforeAll(async () => {
  t = await startTestLedger();
});

afterAll(async () => {
  await t?.stop();
});

/** Every row of every projection table, in primary-key order, as Postgres renders it. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(projectionTables)) {
    const { rows } = await sql<{ row: string }>`
      select to_jsonb(t)::text as row from ${sql.table(table)} t order by ${sql.join(key.map((k) => sql.ref(k)))}`.execute(
      db(),
    );
    out[table] = rows.map((r) => r.row);
  }
  return out;
}

/** Activity touching every kind of projection row: every transfer code and every pending outcome. */
async function activity() {
  const admin = await t.token({ role: 'admin' });
  const post = (url: string, body: unknown) =>
    t.inject({ method: 'POST', url, token: admin, key: randomUUID(), body });
  const companyId = randomUUID();
  const campaignId = randomUUID();
  const contributor = randomUUID();
  expect(
    (await post(`/api/v1/companies/${companyId}/topups`, { amount: usd(500_000), reference: 'r' })).status,
  ).toBe(201);
  await t.createCampaign(campaignId, companyId);
  await t.deliver(
    'ledger-tasks',
    foreign('tasks.campaign.funding-requested.v1', {
      campaign_id: campaignId,
      company_id: companyId,
      budget: usd(123_457),
    }),
  );
  for (let i = 0; i < 5; i++) {
    await t.deliver(
      'ledger-submissions',
      await t.approval({ campaignId, reward: 1_000 + i, contributorId: contributor }),
    );
  }
  await t.deliver(
    'ledger-qc',
    foreign('qc.review.fee-earned.v1', {
      review_id: randomUUID(),
      submission_id: randomUUID(),
      assignment_id: await t.claim({ campaignId, contributorId: randomUUID(), reward: 0, judgeFee: 50 }),
      campaign_id: campaignId,
      judge_id: randomUUID(),
      fee: usd(50),
    }),
  );
  const settled = { withdrawal_id: randomUUID(), user_id: contributor, amount: usd(2_000) };
  const voided = { withdrawal_id: randomUUID(), user_id: contributor, amount: usd(1_500) };
  await t.deliver('ledger-payouts', foreign('payouts.withdrawal.requested.v1', settled));
  await t.deliver('ledger-payouts', foreign('payouts.withdrawal.requested.v1', voided));
  await t.deliver(
    'ledger-payouts',
    foreign('payouts.withdrawal.completed.v1', { ...settled, provider: 'bank' }),
  );
  await t.deliver('ledger-payouts', foreign('payouts.withdrawal.cancelled.v1', voided));
  await t.deliver(
    'ledger-engagement',
    foreign('engagement.referral.rewarded.v1', {
      referral_id: randomUUID(),
      referrer_id: contributor,
      referred_user_id: randomUUID(),
      amount: usd(250),
    }),
  );
  expect(
    (
      await post('/api/v1/admin/ledger/adjustments', {
        user_id: contributor,
        kind: 'penalty',
        amount: usd(99),
        reason: 'late',
      })
    ).status,
  ).toBe(201);
  await t.deliver(
    'ledger-tasks',
    foreign('tasks.campaign.completed.v1', { campaign_id: campaignId, company_id: companyId }),
  );

  // A pending transfer with a timeout, expired by the expiry job.
  const expiring = randomUUID();
  const hold = await t.ledger.resources.engine.transfer([
    {
      id: expiring,
      debit_account: accountIds.userAvailable(contributor),
      credit_account: accountIds.world,
      amount: 10,
      currency: 'USD',
      code: 'withdrawal',
      pending: { timeout_seconds: 1 },
    },
  ]);
  expect(hold.ok).toBe(true);
  await expect
    .poll(async () => (await t.ledger.resources.engine.getTransfer(expiring))?.state, { timeout: 10_000 })
    .toBe('expired');
  await t.projected();
}

describe('projection rebuild', () => {
  it('replays the store into exactly the rows the live projector wrote', async () => {
    await activity();
    const live = await snapshot();
    expect(live.statement_lines!.length).toBeGreaterThan(30);
    expect(live.transfers!.some((row) => String(row).includes('"state": "expired"'))).toBe(true);

    const result = await rebuildProjections(db(), t.ledger.resources.store, { pageSize: 7 });
    expect(result.events).toBe((await t.ledger.resources.store.readAll()).length);
    const stored = await db()
      .selectFrom('projection_checkpoint')
      .select('checkpoint')
      .where('name', '=', PROJECTOR_NAME)
      .executeTakeFirstOrThrow();
    expect(stored.checkpoint).toBe(result.checkpoint);

    expect(await snapshot()).toEqual(live);
  });

  it('rebuilds from nothing to the same rows, and the live projector carries on afterwards', async () => {
    const before = await snapshot();
    for (const table of Object.keys(projectionTables))
      await sql`delete from ${sql.table(table)}`.execute(db());
    await db()
      .updateTable('projection_checkpoint')
      .set({ checkpoint: null })
      .where('name', '=', PROJECTOR_NAME)
      .execute();
    expect((await snapshot()).account_balances).toEqual([]);

    await rebuildProjections(db(), t.ledger.resources.store);
    expect(await snapshot()).toEqual(before);

    const userId = randomUUID();
    await t.deliver(
      'ledger-engagement',
      foreign('engagement.bonus.awarded.v1', {
        bonus_id: randomUUID(),
        user_id: userId,
        amount: usd(42),
        reason_code: 'r',
      }),
    );
    await t.projected();
    const wallet = await db()
      .selectFrom('wallets')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    expect(wallet).toMatchObject({ available: 42 });
  });

  it('runs as a command against a database, while the service is up', async () => {
    const before = await snapshot();
    const script = fileURLToPath(new URL('../../scripts/rebuild-projections.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', script, '--database-url', t.config.DATABASE_URL],
      { env: { PATH: process.env.PATH } },
    );
    expect(stdout).toMatch(/^rebuilt the projections from \d+ events in \d+ ms/);
    expect(await snapshot()).toEqual(before);
  });
});

describe('comparing the projections with a rebuild, changing nothing', () => {
  const store = () => t.ledger.resources.store;
  const runCheck = () =>
    promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('../../scripts/rebuild-projections.ts', import.meta.url)),
        '--check',
        '--database-url',
        t.config.DATABASE_URL,
      ],
      { env: { PATH: process.env.PATH } },
    );

  it('finds no difference when the projector kept up, and leaves every row as it was', async () => {
    await t.projected();
    const before = await snapshot();
    expect(before.transfers!.length).toBeGreaterThan(5);
    const result = await compareWithRebuild(db(), store(), { pageSize: 7 });
    expect(result.problem).toBeUndefined();
    expect(result.differences).toEqual([]);
    expect(result.events).toBe((await store().readAll()).length);
    expect(await snapshot()).toEqual(before);
    const { stdout } = await runCheck();
    expect(stdout).toMatch(/^the projections equal a rebuild of the \d+ events up to their checkpoint/);
  });

  it('names the rows changed, lost or added behind the projector, table by table', async () => {
    await t.projected();
    const before = await snapshot();
    const [transfer] = await db().selectFrom('transfers').select('id').orderBy('id').limit(1).execute();
    await db()
      .updateTable('transfers')
      .set({ amount: sql`amount + 1` })
      .where('id', '=', transfer!.id)
      .execute();
    const [line] = await db()
      .selectFrom('statement_lines')
      .select(['account_id', 'currency', 'seq'])
      .orderBy('account_id')
      .orderBy('seq')
      .limit(1)
      .execute();
    await db()
      .deleteFrom('statement_lines')
      .where('account_id', '=', line!.account_id)
      .where('currency', '=', line!.currency)
      .where('seq', '=', line!.seq)
      .execute();
    await sql`insert into wallets select ${randomUUID()}::uuid, currency, available, held, total_earned, total_withdrawn, updated_at
              from wallets limit 1`.execute(db());
    try {
      const result = await compareWithRebuild(db(), store());
      expect(
        result.differences.map(({ table, onlyLive, onlyRebuilt }) => ({ table, onlyLive, onlyRebuilt })),
      ).toEqual([
        { table: 'statement_lines', onlyLive: 0, onlyRebuilt: 1 },
        { table: 'transfers', onlyLive: 1, onlyRebuilt: 1 },
        { table: 'wallets', onlyLive: 1, onlyRebuilt: 0 },
      ]);
      const transfers = result.differences.find((d) => d.table === 'transfers')!;
      expect(transfers.examples.filter((e) => e.includes(transfer!.id))).toHaveLength(2);
      await expect(runCheck()).rejects.toMatchObject({
        code: 1,
        stdout: expect.stringMatching(/transfers: 1 rows only in the projection, 1 only in the rebuild/),
      });
    } finally {
      await rebuildProjections(db(), store());
    }
    expect(await snapshot()).toEqual(before);
  });

  it('says so when the projection stands at a position the store does not have', async () => {
    await t.projected();
    const row = await db()
      .selectFrom('projection_checkpoint')
      .select('checkpoint')
      .where('name', '=', PROJECTOR_NAME)
      .executeTakeFirstOrThrow();
    const bogus = '99999999999999999999.00000000000000000000';
    await db()
      .updateTable('projection_checkpoint')
      .set({ checkpoint: bogus })
      .where('name', '=', PROJECTOR_NAME)
      .execute();
    try {
      const result = await compareWithRebuild(db(), store());
      expect(result.problem).toBe(`the projection's checkpoint ${bogus} is not a position of the store`);
      expect(result.events).toBe((await store().readAll()).length);
    } finally {
      await db()
        .updateTable('projection_checkpoint')
        .set({ checkpoint: row.checkpoint })
        .where('name', '=', PROJECTOR_NAME)
        .execute();
    }
  });
});
