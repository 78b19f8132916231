import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';
import { cheapestOpenHold, lockCampaignFacts } from './repository.ts';

// Every claim asks, while it holds the campaign's row lock, what the campaign's cheapest open task
// holds. On a large campaign that must cost a few index pages, not a read of every task.

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks({}, { background: { schedule: false, expiry: false } });
});

afterAll(async () => {
  await t?.stop();
});

const TASKS = 20_000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

describe("a large campaign's cheapest open task", () => {
  it('is found in a few index pages, and is the cheapest with a free slot', async () => {
    const { db } = t.tasks;
    const campaign = await t.fixtures.activeCampaign();
    const template = await t.fixtures.task(campaign.id, { reward_amount: 500 });
    // 20,000 more, dearer than the template and each other; the cheapest (501) is then filled up.
    await sql`
      insert into tasks (id, campaign_id, company_id, title, description, task_type, input, difficulty,
        reward_amount, currency, xp_reward, max_submissions, judges_required, min_trust_score, min_level,
        claim_ttl_seconds, status, created_by)
      select gen_random_uuid(), campaign_id, company_id, title, description, task_type, input, difficulty,
        reward_amount + g, currency, xp_reward, max_submissions, judges_required, min_trust_score, min_level,
        claim_ttl_seconds, status, created_by
      from tasks, generate_series(1, ${TASKS}) g where id = ${template.id}`.execute(db);
    await db.updateTable('tasks').set({ status: 'paused' }).where('id', '=', template.id).execute();
    await sql`update tasks set slots_taken = max_submissions
      where campaign_id = ${campaign.id} and reward_amount = 501`.execute(db);
    await sql`analyze tasks`.execute(db);

    const facts = await db.transaction().execute((trx) => lockCampaignFacts(trx, campaign.id));
    const { hold } = (
      await sql<{ hold: string }>`select min(claim_hold_amount)::text as hold from tasks
        where campaign_id = ${campaign.id} and status = 'active' and slots_taken < max_submissions`.execute(
        db,
      )
    ).rows[0]!;
    expect(facts?.facts).toBeDefined();
    const found = await cheapestOpenHold(db, campaign.id).executeTakeFirstOrThrow();
    expect(String(found.claim_hold_amount)).toBe(hold);

    const compiled = cheapestOpenHold(db, campaign.id).compile();
    const { rows } = await db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({
      ...compiled,
      sql: `explain (analyze, buffers, format json) ${compiled.sql}`,
    });
    const plan = rows[0]!['QUERY PLAN'][0].Plan;
    const nodes: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      nodes.push(node);
      node.Plans?.forEach(walk);
    };
    walk(plan);
    expect(
      nodes.some((n) => n['Index Name'] === 'tasks_open_by_hold'),
      JSON.stringify(plan),
    ).toBe(true);
    const pages = (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
    // A walk of every task of the campaign touches hundreds of pages; this stops after the first two.
    expect(pages, JSON.stringify(plan)).toBeLessThan(20);
  });
});
