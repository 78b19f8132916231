import { taskTypes } from '@tessera/contracts';
import { describe, expect, it } from 'vitest';
import { normaliseLanguages } from '../eligibility/index.ts';
import {
  checkGolden,
  decideContent,
  hasOneDecimal,
  normaliseRegions,
  parseTaskInput,
  supportsGolden,
} from './content.ts';

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
    expect(result.refusal.code).toBe('INVALID_TASK_INPUT');
    expect(result.refusal.kind).toBe('unprocessable');
    const errors = result.refusal.extensions.errors as { path: string }[];
    expect(errors.map((e) => e.path)).toContain(path);
    expect(result.refusal.detail).toContain(type);
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
      expect(result).toMatchObject({ ok: false, refusal: { code: 'GOLDEN_NOT_SUPPORTED' } });
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
    expect(result.refusal.code).toBe('INVALID_GOLDEN_ANSWER');
    const { detail, extensions } = result.refusal;
    expect(JSON.stringify({ detail, extensions })).toContain(hint);
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
      refusal: { code: 'INVALID_GOLDEN_ANSWER' },
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

describe('decideContent', () => {
  it('gives the parsed input and the golden answer, or the first refusal', () => {
    expect(
      decideContent('rlhf', { input: validInputs.rlhf, is_golden: true, golden_answer: { preferred: 'a' } }),
    ).toMatchObject({
      ok: true,
      value: { input: { prompt: 'Explain tides' }, goldenAnswer: { preferred: 'a' } },
    });
    expect(decideContent('rlhf', { input: validInputs.text, is_golden: true })).toMatchObject({
      ok: false,
      refusal: { code: 'INVALID_TASK_INPUT', kind: 'unprocessable' },
    });
    expect(
      decideContent('text', { input: validInputs.text, is_golden: true, golden_answer: { answer: 'x' } }),
    ).toMatchObject({
      ok: false,
      refusal: { code: 'GOLDEN_NOT_SUPPORTED' },
    });
  });
});
