import { describe, expect, it } from 'vitest';
import { buildEvent } from './build-event.ts';
import { catalog } from './catalog.ts';
import { taskInputSchemas, taskTypes } from './task-inputs.ts';
import { exampleTaskInputs, taskPublishedData } from './testing.ts';

const ids = {
  taskId: '0190a1b2-0000-7000-8000-000000000001',
  campaignId: '0190a1b2-0000-7000-8000-000000000002',
  companyId: '0190a1b2-0000-7000-8000-000000000003',
};

describe('the shared test fixtures of a published task', () => {
  it.each(taskTypes)('gives a %s task an input its type accepts and an event the catalog accepts', (type) => {
    expect(taskInputSchemas[type].safeParse(exampleTaskInputs[type]).success).toBe(true);
    const data = taskPublishedData(type, ids);
    expect(catalog['tasks.task.published.v1'].data.parse(data)).toMatchObject({ task_type: type });
    expect(() => buildEvent('tasks.task.updated.v1', data, { subject: ids.taskId })).not.toThrow();
  });

  it('lays overrides over the defaults and keeps the ids', () => {
    const data = taskPublishedData('text', ids, { is_golden: true, reward: { amount: 10, currency: 'EUR' } });
    expect(data).toMatchObject({
      task_id: ids.taskId,
      campaign_id: ids.campaignId,
      company_id: ids.companyId,
      is_golden: true,
      reward: { amount: 10, currency: 'EUR' },
      xp_reward: 10,
    });
  });
});
