import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngagement, type TestEngagement } from '../testing/harness.ts';
import { campaignKnown, companyOfCampaign, taskKnown, taskTypeOf } from './repository.ts';

let t: TestEngagement;
beforeAll(async () => {
  t = await startTestEngagement();
});
afterAll(() => t?.stop());

describe('the catalog', () => {
  it('reads a task type and a campaign company once, and looks again for what it has not seen', async () => {
    const db = t.service.db;
    const [task, campaign, company] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await taskTypeOf(db, task)).toBeUndefined();
    expect(await companyOfCampaign(db, campaign)).toBeUndefined();
    await taskKnown(db, task, campaign, 'text');
    await campaignKnown(db, campaign, company);
    expect(await taskTypeOf(db, task)).toBe('text');
    expect(await companyOfCampaign(db, campaign)).toBe(company);
    // Never changed once known: what was found is not read again.
    await db.deleteFrom('catalog_tasks').where('task_id', '=', task).execute();
    await db.deleteFrom('catalog_campaigns').where('campaign_id', '=', campaign).execute();
    expect(await taskTypeOf(db, task)).toBe('text');
    expect(await companyOfCampaign(db, campaign)).toBe(company);
  });
});
