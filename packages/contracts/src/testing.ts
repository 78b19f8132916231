import type { EventData } from './catalog.ts';
import type { TaskType } from './task-inputs.ts';

/**
 * Fixtures for tests of the services that read tasks' events: one place that knows the shape of a
 * published task, so a field added to the contract is added to every service's tests at once.
 * Imported as `@tessera/contracts/testing`, from tests and test harnesses only.
 */

/** A valid input of each task type, as a company would publish it. */
export const exampleTaskInputs: Record<TaskType, Record<string, unknown>> = {
  audio: { prompt: 'Read the sentence aloud', language: 'en', min_duration_s: 5, max_duration_s: 120 },
  image: { prompt: 'Label the animal', image_url: null, labels: ['cat', 'dog', 'bird'], multi_label: true },
  text: { prompt: 'Describe your morning', language: 'en', min_chars: 20, max_chars: 500 },
  validation: {
    item_url: 'https://example.com/item.wav',
    item_kind: 'audio',
    question: 'Is the speech clear?',
    options: ['yes', 'no'],
  },
  linguasense: {
    text: 'It is raining cats and dogs.',
    language: 'en',
    question: 'What does it mean?',
    options: null,
  },
  rlhf: {
    prompt: 'Explain tides',
    response_a: 'The moon.',
    response_b: 'Wind.',
    criteria: ['helpfulness', 'honesty'],
  },
};

export type TaskPublishedData = EventData<'tasks.task.published.v1'>;

/**
 * The data of `tasks.task.published.v1` (or `updated`, the same snapshot) for an active task of
 * `type` in a company's campaign: an easy task paying 1.50 USD and 10 XP, judged by 3, open to
 * everyone, with `overrides` laid over it.
 */
export function taskPublishedData(
  type: TaskType,
  ids: { taskId: string; campaignId: string; companyId: string },
  overrides: Partial<TaskPublishedData> = {},
): TaskPublishedData {
  return {
    task_id: ids.taskId,
    campaign_id: ids.campaignId,
    company_id: ids.companyId,
    title: `A ${type} task`,
    task_type: type,
    difficulty: 'easy',
    input: exampleTaskInputs[type],
    reward: { amount: 150, currency: 'USD' },
    xp_reward: 10,
    max_submissions: 10,
    judges_required: 3,
    min_trust_score: 0,
    min_level: 1,
    required_languages: [],
    regions: [],
    is_priority: false,
    is_golden: false,
    golden_answer: null,
    claim_ttl_seconds: 3600,
    deadline: null,
    status: 'active',
    ...overrides,
  };
}
