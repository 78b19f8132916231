import { taskInputSchemas, type TaskType } from '@tessera/contracts';
import { describe, expect, it } from 'vitest';
import { checkPayload } from './payloads.ts';

const input = <T extends TaskType>(type: T, raw: Record<string, unknown>) =>
  taskInputSchemas[type].parse(raw);
const media = '0F1E2D3C-4B5A-4968-8776-655443322110';

const tasks = {
  audio: input('audio', { prompt: 'Read aloud', language: 'en' }),
  capture: input('image', { prompt: 'A street sign' }),
  labelling: input('image', {
    prompt: 'What is in it?',
    image_url: 'https://x.test/a.png',
    labels: ['cat', 'dog', 'bird'],
  }),
  multiLabel: input('image', {
    prompt: 'All animals',
    image_url: 'https://x.test/a.png',
    labels: ['cat', 'dog'],
    multi_label: true,
  }),
  text: input('text', { prompt: 'Write', language: 'en', min_chars: 10, max_chars: 20 }),
  validation: input('validation', {
    item_url: 'https://x.test/i.wav',
    item_kind: 'audio',
    question: 'Clear?',
    options: ['yes', 'no'],
  }),
  freeAnswer: input('linguasense', { text: 'Break a leg', language: 'en', question: 'Meaning?' }),
  choice: input('linguasense', {
    text: 'Break a leg',
    language: 'en',
    question: 'Meaning?',
    options: ['good luck', 'injury'],
  }),
  rlhf: input('rlhf', { prompt: 'p', response_a: 'a', response_b: 'b', criteria: ['helpfulness'] }),
};

function refusal(type: TaskType, task: unknown, payload: unknown) {
  const decision = checkPayload(type, task as never, payload);
  return decision.ok ? 'accepted' : `${decision.refusal.kind} ${decision.refusal.code}`;
}

describe('payloads per task type', () => {
  it('takes audio as a media reference, lower-cased, with an optional transcript; the duration never from the client', () => {
    const decision = checkPayload('audio', tasks.audio, { media_id: media, transcript: 'hello' });
    expect(decision).toMatchObject({ ok: true, value: { mediaIds: [media.toLowerCase()], answer: null } });
    expect(refusal('audio', tasks.audio, { media_id: media, duration_s: 30 })).toBe(
      'invalid PAYLOAD_INVALID',
    );
    expect(refusal('audio', tasks.audio, { media_id: 'not-an-id' })).toBe('invalid PAYLOAD_INVALID');
  });

  it('takes a capture as a media reference and labels from the label set for a labelling task', () => {
    expect(checkPayload('image', tasks.capture, { media_id: media })).toMatchObject({
      ok: true,
      value: { mediaIds: [media.toLowerCase()] },
    });
    expect(refusal('image', tasks.capture, { labels: ['cat'] })).toBe('invalid PAYLOAD_INVALID');
    expect(checkPayload('image', tasks.labelling, { labels: ['dog'] })).toMatchObject({
      ok: true,
      value: { mediaIds: [], answer: { labels: ['dog'] } },
    });
    expect(refusal('image', tasks.labelling, { labels: ['horse'] })).toBe('invalid LABEL_NOT_IN_SET');
    expect(refusal('image', tasks.labelling, { labels: ['cat', 'dog'] })).toBe('invalid ONE_LABEL_ONLY');
    expect(checkPayload('image', tasks.multiLabel, { labels: ['dog', 'cat'] })).toMatchObject({
      ok: true,
      value: { answer: { labels: ['cat', 'dog'] } },
    });
  });

  it('keeps boxes inside the image, with labels from the set', () => {
    const box = { label: 'cat', x: 0.5, y: 0.5, w: 0.5, h: 0.5 };
    expect(checkPayload('image', tasks.labelling, { labels: ['cat'], boxes: [box] }).ok).toBe(true);
    expect(refusal('image', tasks.labelling, { labels: ['cat'], boxes: [{ ...box, w: 0.6 }] })).toBe(
      'invalid BOX_OUTSIDE_IMAGE',
    );
    expect(refusal('image', tasks.labelling, { labels: ['cat'], boxes: [{ ...box, label: 'cow' }] })).toBe(
      'invalid LABEL_NOT_IN_SET',
    );
    expect(refusal('image', tasks.labelling, { labels: ['cat'], boxes: [{ ...box, x: -0.1 }] })).toBe(
      'invalid PAYLOAD_INVALID',
    );
  });

  it('takes text within the task’s bounds, counted in characters after trimming', () => {
    expect(checkPayload('text', tasks.text, { text: '  ten chars!  ' })).toMatchObject({
      ok: true,
      value: { text: 'ten chars!' },
    });
    expect(checkPayload('text', tasks.text, { text: '🙂'.repeat(20) }).ok).toBe(true); // 20 characters, 40 UTF-16 units
    expect(refusal('text', tasks.text, { text: 'nine char' })).toBe('invalid TEXT_LENGTH_OUT_OF_RANGE');
    expect(refusal('text', tasks.text, { text: 'x'.repeat(21) })).toBe('invalid TEXT_LENGTH_OUT_OF_RANGE');
    expect(refusal('text', tasks.text, { text: 'ten chars\u0000!' })).toBe('invalid PAYLOAD_INVALID');
  });

  it('takes an offered option with an optional confidence', () => {
    expect(checkPayload('validation', tasks.validation, { option: 'no', confidence: 0.7 })).toMatchObject({
      ok: true,
      value: { answer: { option: 'no' } },
    });
    expect(refusal('validation', tasks.validation, { option: 'maybe' })).toBe('invalid OPTION_NOT_OFFERED');
    expect(refusal('validation', tasks.validation, { option: 'no', confidence: 1.5 })).toBe(
      'invalid PAYLOAD_INVALID',
    );
  });

  it('takes a free answer or an offered option, as the linguasense task asks', () => {
    expect(checkPayload('linguasense', tasks.freeAnswer, { answer: 'Good luck!' })).toMatchObject({
      ok: true,
      value: { answer: { answer: 'Good luck!' } },
    });
    expect(refusal('linguasense', tasks.freeAnswer, { option: 'good luck' })).toBe('invalid PAYLOAD_INVALID');
    expect(checkPayload('linguasense', tasks.choice, { option: 'good luck' })).toMatchObject({
      ok: true,
      value: { answer: { answer: 'good luck' } },
    });
    expect(refusal('linguasense', tasks.choice, { option: 'nonsense' })).toBe('invalid OPTION_NOT_OFFERED');
  });

  it('takes a preference with ratings 1–7 of the task’s own criteria', () => {
    expect(
      checkPayload('rlhf', tasks.rlhf, { preferred: 'tie', ratings: { helpfulness: 7 }, rationale: 'same' }),
    ).toMatchObject({
      ok: true,
      value: { answer: { preferred: 'tie' } },
    });
    expect(refusal('rlhf', tasks.rlhf, { preferred: 'c' })).toBe('invalid PAYLOAD_INVALID');
    expect(refusal('rlhf', tasks.rlhf, { preferred: 'a', ratings: { helpfulness: 8 } })).toBe(
      'invalid PAYLOAD_INVALID',
    );
    expect(refusal('rlhf', tasks.rlhf, { preferred: 'a', ratings: { honesty: 3 } })).toBe(
      'invalid CRITERION_UNKNOWN',
    );
  });

  it('names the offending field of a malformed payload', () => {
    const decision = checkPayload('validation', tasks.validation, { option: 3 });
    expect(decision.ok).toBe(false);
    if (!decision.ok)
      expect(decision.refusal.extensions.errors).toEqual([
        { path: 'payload.option', message: expect.any(String) },
      ]);
  });
});
