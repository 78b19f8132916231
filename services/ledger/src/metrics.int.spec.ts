import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIds } from './domain/accounts.ts';
import { startTestLedger, type TestLedger } from './messaging/testing.ts';

let t: TestLedger;

beforeAll(async () => {
  t = await startTestLedger();
});
afterAll(async () => {
  await t?.stop();
});

/** The value of one series on `GET /metrics` (0 when absent). */
async function scrape(name: string, labels: Record<string, string> = {}): Promise<number> {
  const response = await t.ledger.app.inject({ url: '/metrics' });
  expect(response.statusCode).toBe(200);
  for (const line of response.body.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = new Map([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => have.get(key) === value)) return Number(match[3]);
  }
  return 0;
}

describe("the ledger writer's metrics", () => {
  it('counts committed batches with their sizes, and times each answer by outcome', async () => {
    const batches = await scrape('tessera_ledger_batch_commands_count');
    const commands = await scrape('tessera_ledger_batch_commands_sum');
    const accepted = await scrape('tessera_ledger_command_seconds_count', { outcome: 'accepted' });
    const refused = await scrape('tessera_ledger_command_seconds_count', { outcome: 'refused' });

    // Three top-ups submitted together (one batch or more), then one overdraft, which is refused.
    const company = randomUUID();
    await Promise.all([1, 2, 3].map(() => t.fundCompany(company, 100)));
    const overdraft = await t.ledger.resources.engine.transfer([
      {
        id: randomUUID(),
        debit_account: accountIds.companyCredits(company),
        credit_account: accountIds.world,
        amount: 1_000,
        currency: t.config.LEDGER_CURRENCY,
        code: 'topup',
      },
    ]);
    expect(overdraft.ok).toBe(false);

    expect(await scrape('tessera_ledger_command_seconds_count', { outcome: 'accepted' })).toBe(accepted + 3);
    expect(await scrape('tessera_ledger_command_seconds_count', { outcome: 'refused' })).toBe(refused + 1);
    expect(await scrape('tessera_ledger_batch_commands_sum')).toBe(commands + 4);
    const newBatches = (await scrape('tessera_ledger_batch_commands_count')) - batches;
    expect(newBatches).toBeGreaterThanOrEqual(2);
    expect(newBatches).toBeLessThanOrEqual(4);
  });
});
