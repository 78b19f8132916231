import { taskTypes } from '@tessera/contracts';
import { describe, expect, it } from 'vitest';
import type { TaskStatus } from '../db/schema.ts';
import {
  canTransition,
  checkGolden,
  hasOneDecimal,
  isClosed,
  normaliseLanguages,
  normaliseRegions,
  parseTaskInput,
  priorityScore,
  statusChange,
  supportsGolden,
} from './task-rules.ts';

const validInputs = {
  audio: { prompt: 'Read this aloud', language: 'en' },
  image: { prompt: 'Label the animal', image_url: 'https://example.com/a.png', labels: ['cat', 'dog'] },
  text: { prompt: 'Describe your day', language: 'es-MX' },
  validation: {
    item_url: 'https://example.com/clip.mp3',
    item_kind: 'audio',
    question: 'Is the speech clear?',
    options: ['yes', 'no'],
  },
  linguasense: { text: 'Il pleut des cordes', language: 'fr', question: 'What does it mean?', options: null },
  rlhf: { prompt: 'Explain tides', response_a: 'The moon.', response_b: 'Magic.' },
} as const;

describe('parseTaskInput', () => {
  it.each(taskTypes)('accepts a valid %s input and fills its defaults', (type) => {
    const result = parseTaskInput(type, validInputs[type]);
    expect(result.ok).toBe(true);
  });

  it('fills the defaults of the type (text: min_chars 1, max_chars 5000)', () => {
    const result = parseTaskInput('text', validInputs.text);
    expect(result).toEqual({
      ok: true,
      value: { prompt: 'Describe your day', language: 'es-MX', min_chars: 1, max_chars: 5000 },
    });
  });

  it.each([
    ['audio', { prompt: 'x', language: 'english!' }, 'input.language'],
    [
      'audio',
      { prompt: 'x', language: 'en', min_duration_s: 50, max_duration_s: 10 },
      'input.min_duration_s',
    ],
    ['image', { prompt: 'x', image_url: 'ftp://example.com/a.png' }, 'input.image_url'],
    ['text', { prompt: '', language: 'en' }, 'input.prompt'],
    ['validation', { ...validInputs.validation, options: ['only'] }, 'input.options'],
    ['linguasense', { ...validInputs.linguasense, extra: 1 }, 'input'],
    ['rlhf', { prompt: 'x', response_a: 'a' }, 'input.response_b'],
  ] as const)('refuses a bad %s input and says where (%#)', (type, input, path) => {
    const result = parseTaskInput(type, input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('INVALID_TASK_INPUT');
    expect(result.errors.map((e) => e.path)).toContain(path);
    expect(result.detail).toContain(type);
  });

  it("refuses another type's input", () => {
    expect(parseTaskInput('rlhf', validInputs.text).ok).toBe(false);
    expect(parseTaskInput('validation', validInputs.image).ok).toBe(false);
  });
});

describe('golden tasks', () => {
  const input = <T extends keyof typeof validInputs>(type: T) => {
    const parsed = parseTaskInput(type, validInputs[type]);
    if (!parsed.ok) throw new Error('fixture');
    return parsed.value;
  };

  it('audio and text cannot be golden', () => {
    expect(supportsGolden('audio')).toBe(false);
    expect(supportsGolden('text')).toBe(false);
    for (const type of ['audio', 'text'] as const) {
      const result = checkGolden(type, input(type), { is_golden: true, golden_answer: { answer: 'x' } });
      expect(result).toMatchObject({ ok: false, code: 'GOLDEN_NOT_SUPPORTED' });
    }
  });

  it.each([
    ['image', { labels: ['cat'] }],
    ['validation', { option: 'yes' }],
    ['linguasense', { answer: 'It is raining hard' }],
    ['rlhf', { preferred: 'a' }],
  ] as const)('accepts a valid %s answer', (type, answer) => {
    expect(checkGolden(type, input(type), { is_golden: true, golden_answer: answer })).toEqual({
      ok: true,
      value: answer,
    });
  });

  it.each([
    ['image', undefined, 'is required'],
    ['image', { labels: [] }, 'golden_answer.labels'],
    ['image', { labels: ['horse'] }, 'among input.labels'],
    ['image', { labels: ['cat', 'dog'] }, 'one label'],
    ['validation', { option: 'maybe' }, 'one of input.options'],
    ['validation', { preferred: 'a' }, 'golden_answer'],
    ['rlhf', { preferred: 'c' }, 'golden_answer.preferred'],
    ['linguasense', { answer: '' }, 'golden_answer.answer'],
  ] as const)('refuses a %s answer that does not fit (%#)', (type, answer, hint) => {
    const result = checkGolden(type, input(type), { is_golden: true, golden_answer: answer });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('INVALID_GOLDEN_ANSWER');
    expect(JSON.stringify(result)).toContain(hint);
  });

  it('linguasense with options: the answer must be one of them', () => {
    const parsed = parseTaskInput('linguasense', { ...validInputs.linguasense, options: ['rain', 'sun'] });
    if (!parsed.ok) throw new Error('fixture');
    expect(
      checkGolden('linguasense', parsed.value, { is_golden: true, golden_answer: { answer: 'rain' } }).ok,
    ).toBe(true);
    expect(
      checkGolden('linguasense', parsed.value, { is_golden: true, golden_answer: { answer: 'snow' } }).ok,
    ).toBe(false);
  });

  it('a task that is not golden carries no answer', () => {
    expect(checkGolden('rlhf', input('rlhf'), { is_golden: false, golden_answer: undefined })).toEqual({
      ok: true,
      value: null,
    });
    expect(checkGolden('rlhf', input('rlhf'), { is_golden: false, golden_answer: null }).ok).toBe(true);
    expect(
      checkGolden('rlhf', input('rlhf'), { is_golden: false, golden_answer: { preferred: 'a' } }),
    ).toMatchObject({
      ok: false,
      code: 'INVALID_GOLDEN_ANSWER',
    });
  });
});

describe('normalisation', () => {
  it('keeps primary language subtags, lower case, once each, in first-seen order', () => {
    expect(normaliseLanguages(['es-MX', 'EN', 'es', 'zh-Hant', 'en-GB'])).toEqual(['es', 'en', 'zh']);
    expect(normaliseLanguages([])).toEqual([]);
  });

  it('upper-cases regions once each', () => {
    expect(normaliseRegions(['ng', 'NG', 'ke', 'Br'])).toEqual(['NG', 'KE', 'BR']);
  });

  it('trust scores have at most one decimal', () => {
    for (const ok of [0, 5, 5.1, 7.3, 9.9, 10, 0.1, 0.7]) expect(hasOneDecimal(ok), String(ok)).toBe(true);
    for (const bad of [5.15, 0.01, 9.99, 3.333]) expect(hasOneDecimal(bad), String(bad)).toBe(false);
  });
});

describe('status transitions', () => {
  const all: TaskStatus[] = ['active', 'paused', 'completed', 'archived'];

  it('active ⇄ paused; archived and completed are final', () => {
    expect(canTransition('active', 'paused')).toBe(true);
    expect(canTransition('paused', 'active')).toBe(true);
    expect(canTransition('active', 'archived')).toBe(true);
    expect(canTransition('paused', 'completed')).toBe(true);
    for (const to of all) {
      expect(canTransition('archived', to)).toBe(to === 'archived');
      expect(canTransition('completed', to)).toBe(to === 'completed');
    }
    expect(all.filter(isClosed)).toEqual(['completed', 'archived']);
  });

  it('names what a change announces', () => {
    expect(statusChange('active', 'paused')).toBe('paused');
    expect(statusChange('paused', 'active')).toBe('resumed');
    expect(statusChange('active', 'archived')).toBe('archived');
    expect(statusChange('active', 'active')).toBeNull();
  });
});

describe('priorityScore', () => {
  /** The seed's get_user_task_feed score, with its reward in dollars (DECIMAL). */
  const seedScore = (t: { is_priority: boolean; current: number; max: number; dollars: number }) =>
    (t.is_priority ? 10 : 0) + (10 - (t.current / t.max) * 10) + t.dollars / 10;

  it('is the seed formula with rewards in minor units', () => {
    const cases = [
      { is_priority: false, slots_taken: 0, max_submissions: 1000, reward_amount: 150 },
      { is_priority: true, slots_taken: 0, max_submissions: 1000, reward_amount: 150 },
      { is_priority: false, slots_taken: 500, max_submissions: 1000, reward_amount: 2500 },
      { is_priority: true, slots_taken: 9, max_submissions: 10, reward_amount: 1 },
      { is_priority: false, slots_taken: 10, max_submissions: 10, reward_amount: 999_999 },
      { is_priority: false, slots_taken: 1, max_submissions: 3, reward_amount: 333 },
    ];
    for (const task of cases) {
      const seed = seedScore({
        is_priority: task.is_priority,
        current: task.slots_taken,
        max: task.max_submissions,
        dollars: task.reward_amount / 100,
      });
      expect(priorityScore(task)).toBeCloseTo(seed, 9);
    }
    expect(priorityScore(cases[0]!)).toBeCloseTo(10.15, 12);
    expect(priorityScore(cases[1]!)).toBeCloseTo(20.15, 12);
    expect(priorityScore(cases[2]!)).toBeCloseTo(7.5, 12);
  });

  it('ranks priority first, then emptier, then richer', () => {
    const base = { is_priority: false, slots_taken: 5, max_submissions: 10, reward_amount: 100 };
    expect(priorityScore({ ...base, is_priority: true })).toBeGreaterThan(priorityScore(base));
    expect(priorityScore({ ...base, slots_taken: 1 })).toBeGreaterThan(priorityScore(base));
    expect(priorityScore({ ...base, reward_amount: 200 })).toBeGreaterThan(priorityScore(base));
  });
});
