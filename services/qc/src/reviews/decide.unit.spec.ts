import type { TaskType } from '@tessera/contracts';
import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { cryptoRandom } from '../context.ts';
import {
  decideAnswer,
  decideHoneypotFeeDelay,
  decideHoneypotTurn,
  decideLeaseHeld,
  decidePick,
  type ReviewState,
} from './decide.ts';

const now = new Date('2030-01-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
const judgeId = '0190a000-0000-7000-8000-000000000001';
const otherJudge = '0190a000-0000-7000-8000-000000000002';

const review = (values: Partial<ReviewState> = {}): ReviewState => ({
  judge_id: judgeId,
  status: 'leased',
  lease_expires_at: at(60_000),
  ...values,
});

describe('decideLeaseHeld (given a review, when its judge submits or releases it)', () => {
  const spec = decider(decideLeaseHeld);

  it('accepts the judge holding a running lease, up to the last millisecond', () => {
    spec.given(review()).when({ judgeId, now }).then(undefined);
    spec
      .given(review({ lease_expires_at: at(1) }))
      .when({ judgeId, now })
      .then(undefined);
  });

  it("hides another judge's review (404 REVIEW_NOT_FOUND), whatever its state", () => {
    for (const status of ['leased', 'submitted', 'released', 'expired'] as const) {
      spec
        .given(review({ status }))
        .when({ judgeId: otherJudge, now })
        .thenRefuses('REVIEW_NOT_FOUND', 'not_found');
    }
  });

  it('refuses a review already submitted (REVIEW_ALREADY_SUBMITTED), even one later set aside', () => {
    for (const status of ['submitted', 'discarded'] as const) {
      spec
        .given(review({ status }))
        .when({ judgeId, now })
        .thenRefuses('REVIEW_ALREADY_SUBMITTED', 'conflict');
    }
  });

  it('refuses a released or expired lease (LEASE_EXPIRED), even before its time ran out', () => {
    for (const status of ['released', 'expired'] as const) {
      spec
        .given(review({ status, lease_expires_at: at(60_000) }))
        .when({ judgeId, now })
        .thenRefuses('LEASE_EXPIRED', 'conflict');
    }
  });

  it('refuses a lease whose time passed, the expiry job not having run yet', () => {
    spec
      .given(review({ lease_expires_at: at(-1) }))
      .when({ judgeId, now })
      .thenRefuses('LEASE_EXPIRED', 'conflict');
  });

  it('refuses a lease exactly at its expiry (the lease runs until, not through, lease_expires_at)', () => {
    spec
      .given(review({ lease_expires_at: now }))
      .when({ judgeId, now })
      .thenRefuses('LEASE_EXPIRED', 'conflict');
  });
});

describe("decideHoneypotTurn (given the judge's latest honeypot lease, when they lease anew)", () => {
  const spec = decider(decideHoneypotTurn);
  const answered = review({ status: 'submitted' });

  it('is a honeypot turn exactly when the draw falls below 1 / every: chance, not a count of leases', () => {
    for (const lastHoneypot of [undefined, answered]) {
      spec.given(lastHoneypot).when({ every: 10, draw: 0, now }).then(true);
      spec.given(lastHoneypot).when({ every: 10, draw: 0.0999, now }).then(true);
      spec.given(lastHoneypot).when({ every: 10, draw: 0.1, now }).then(false);
      spec.given(lastHoneypot).when({ every: 10, draw: 0.9999, now }).then(false);
      spec.given(lastHoneypot).when({ every: 1, draw: 0.9999, now }).then(true);
    }
  });

  it('is always a honeypot turn after a honeypot given back: released, expired, or run out unanswered', () => {
    for (const givenBack of [
      review({ status: 'released' }),
      review({ status: 'expired' }),
      review({ status: 'leased', lease_expires_at: now }),
    ]) {
      spec.given(givenBack).when({ every: 10, draw: 0.9999, now }).then(true);
    }
  });

  it('never is with honeypots off (every 0), whatever is owed', () => {
    spec
      .given(review({ status: 'released' }))
      .when({ every: 0, draw: 0, now })
      .then(false);
  });

  it('comes about once in `every` leases drawn from the crypto source (a tolerant bound)', () => {
    for (const every of [3, 10]) {
      const leases = 20_000;
      let turns = 0;
      let outside = 0;
      for (let i = 0; i < leases; i++) {
        const draw = cryptoRandom();
        if (!(draw >= 0 && draw < 1)) outside++;
        if (decideHoneypotTurn(answered, { every, draw, now })) turns++;
      }
      expect(outside).toBe(0);
      // Binomial(20 000, 1/every): a standard deviation of at most 67; the bound is over 7 of them.
      expect(Math.abs(turns - leases / every)).toBeLessThan(500);
    }
  });
});

/** Task inputs as tasks publishes them (packages/contracts task-inputs.ts). */
const inputs = {
  validation: {
    item_url: 'https://example.com/item.wav',
    item_kind: 'audio',
    question: 'Is the speech clear?',
    options: ['yes', 'no'],
  },
  linguasenseClosed: {
    text: 'It is raining cats and dogs.',
    language: 'en',
    question: 'What does it mean?',
    options: ['heavy rain', 'falling animals'],
  },
  linguasenseFree: {
    text: 'It is raining cats and dogs.',
    language: 'en',
    question: 'What does it mean?',
    options: null,
  },
  rlhf: { prompt: 'Explain tides', response_a: 'The moon.', response_b: 'Wind.', criteria: ['overall'] },
  labelMany: {
    prompt: 'Label',
    image_url: 'https://example.com/a.jpg',
    labels: ['cat', 'dog', 'bird'],
    multi_label: true,
  },
  labelOne: {
    prompt: 'Label',
    image_url: 'https://example.com/a.jpg',
    labels: ['cat', 'dog', 'bird'],
    multi_label: false,
  },
  capture: { prompt: 'Photograph a cat', image_url: null, labels: [], multi_label: false },
  audio: { prompt: 'Read aloud', language: 'en', min_duration_s: 5, max_duration_s: 120 },
  text: { prompt: 'Describe your morning', language: 'en', min_chars: 20, max_chars: 500 },
} satisfies Record<string, Record<string, unknown>>;

type Task = { type: TaskType; input: Record<string, unknown> };
const task = (type: TaskType, input: Record<string, unknown>): Task => ({ type, input });

describe('decideAnswer (given the task, when a judge answers with the verdict)', () => {
  const spec = decider((given: Task, answer: Record<string, unknown> | undefined) =>
    decideAnswer(given.type, given.input, answer),
  );

  it('takes no answer as null, for every task type', () => {
    for (const [type, input] of [
      ['validation', inputs.validation],
      ['rlhf', inputs.rlhf],
      ['image', inputs.labelMany],
      ['audio', inputs.audio],
    ] as const) {
      spec.given(task(type, input)).when(undefined).then(null);
    }
  });

  describe('validation', () => {
    const validation = task('validation', inputs.validation);

    it('takes one of the options', () => {
      spec.given(validation).when({ option: 'yes' }).then({ option: 'yes' });
      spec.given(validation).when({ option: 'no' }).then({ option: 'no' });
    });

    it('refuses an option the task does not offer, or one of another type, naming the options', () => {
      const refused = spec
        .given(validation)
        .when({ option: 'maybe' })
        .thenRefuses('INVALID_ANSWER', 'unprocessable');
      expect(refused.message).toContain('one of: yes, no');
      spec.given(validation).when({ option: 1 }).thenRefuses('INVALID_ANSWER');
      spec.given(validation).when({ option: 'YES' }).thenRefuses('INVALID_ANSWER');
      spec.given(validation).when({ preferred: 'a' }).thenRefuses('INVALID_ANSWER');
    });

    it('refuses extra keys beside the option', () => {
      spec.given(validation).when({ option: 'yes', confidence: 0.9 }).thenRefuses('INVALID_ANSWER');
      spec.given(validation).when({}).thenRefuses('INVALID_ANSWER');
    });
  });

  describe('linguasense', () => {
    it('with options, takes one of them like a validation task', () => {
      const closed = task('linguasense', inputs.linguasenseClosed);
      spec.given(closed).when({ option: 'heavy rain' }).then({ option: 'heavy rain' });
      spec.given(closed).when({ option: 'light rain' }).thenRefuses('INVALID_ANSWER', 'unprocessable');
      spec.given(closed).when({ answer: 'heavy rain' }).thenRefuses('INVALID_ANSWER');
    });

    it('without options (a free answer), takes no answer besides the verdict', () => {
      const free = task('linguasense', inputs.linguasenseFree);
      spec.given(free).when(undefined).then(null);
      const refused = spec
        .given(free)
        .when({ answer: 'heavy rain' })
        .thenRefuses('INVALID_ANSWER', 'unprocessable');
      expect(refused.message).toBe('A linguasense review takes no answer besides the verdict.');
      spec.given(free).when({ option: 'heavy rain' }).thenRefuses('INVALID_ANSWER');
    });
  });

  describe('rlhf', () => {
    const rlhf = task('rlhf', inputs.rlhf);

    it('takes a preference: a, b or tie', () => {
      for (const preferred of ['a', 'b', 'tie']) spec.given(rlhf).when({ preferred }).then({ preferred });
    });

    it('refuses anything else, and extra keys', () => {
      spec.given(rlhf).when({ preferred: 'c' }).thenRefuses('INVALID_ANSWER', 'unprocessable');
      spec.given(rlhf).when({ preferred: 'A' }).thenRefuses('INVALID_ANSWER');
      spec.given(rlhf).when({ option: 'a' }).thenRefuses('INVALID_ANSWER');
      spec.given(rlhf).when({ preferred: 'a', reason: 'clearer' }).thenRefuses('INVALID_ANSWER');
    });
  });

  describe('image labelling', () => {
    const many = task('image', inputs.labelMany);
    const one = task('image', inputs.labelOne);

    it('with multi_label, takes several labels from the set, deduplicated and sorted', () => {
      spec
        .given(many)
        .when({ labels: ['dog', 'cat'] })
        .then({ labels: ['cat', 'dog'] });
      spec
        .given(many)
        .when({ labels: ['dog', 'cat', 'dog'] })
        .then({ labels: ['cat', 'dog'] });
      spec
        .given(many)
        .when({ labels: ['bird'] })
        .then({ labels: ['bird'] });
    });

    it('without multi_label, takes exactly one label', () => {
      spec
        .given(one)
        .when({ labels: ['dog'] })
        .then({ labels: ['dog'] });
      const refused = spec
        .given(one)
        .when({ labels: ['dog', 'cat'] })
        .thenRefuses('INVALID_ANSWER', 'unprocessable');
      expect(refused.message).toBe('This task takes one label.');
    });

    it('refuses labels outside the set, none, non-strings and extra keys, naming the set', () => {
      const refused = spec
        .given(many)
        .when({ labels: ['cow'] })
        .thenRefuses('INVALID_ANSWER');
      expect(refused.message).toContain("from the task's labels: cat, dog, bird");
      spec.given(many).when({ labels: [] }).thenRefuses('INVALID_ANSWER');
      spec.given(many).when({ labels: 'cat' }).thenRefuses('INVALID_ANSWER');
      spec
        .given(many)
        .when({ labels: ['cat', 7] })
        .thenRefuses('INVALID_ANSWER');
      spec
        .given(many)
        .when({ labels: ['cat'], note: 'blurry' })
        .thenRefuses('INVALID_ANSWER');
    });

    it('a capture task (no label set) takes no answer', () => {
      const capture = task('image', inputs.capture);
      spec.given(capture).when(undefined).then(null);
      spec
        .given(capture)
        .when({ labels: ['cat'] })
        .thenRefuses('INVALID_ANSWER', 'unprocessable');
    });
  });

  it.each([
    ['image', inputs.capture],
    ['audio', inputs.audio],
    ['text', inputs.text],
  ] as const)('a %s capture takes no answer besides the verdict', (type, input) => {
    const refused = spec
      .given(task(type, input))
      .when({ option: 'yes' })
      .thenRefuses('INVALID_ANSWER', 'unprocessable');
    expect(refused.message).toBe(`A ${type} review takes no answer besides the verdict.`);
    spec.given(task(type, input)).when({}).thenRefuses('INVALID_ANSWER');
  });
});

describe('decidePick (given the oldest candidate cases, when a judge leases)', () => {
  it('maps the draw onto the candidates, oldest first: [0, 1/n) the oldest, [(n-1)/n, 1) the newest', () => {
    expect([0, 0.33, 0.34, 0.5, 0.67, 0.999].map((draw) => decidePick(3, draw))).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('takes the one candidate whatever the draw, and never falls outside the candidates', () => {
    expect([0, 0.5, 0.999].map((draw) => decidePick(1, draw))).toEqual([0, 0, 0]);
    expect(decidePick(10, 1)).toBe(9);
    expect(decidePick(10, -0.1)).toBe(0);
  });
});

describe('decideHoneypotFeeDelay (given the latest real settlements, when a honeypot review is submitted)', () => {
  // Each a counted real review's time from its submission to its case's settlement, latest first.
  const settled = [0, 45_000, 600_000, 7_200_000];

  it('is the settlement the draw falls on: as long as one real review took, never a figure of its own', () => {
    expect(
      [0, 0.24, 0.25, 0.5, 0.75, 0.999].map((draw) => decideHoneypotFeeDelay(settled, draw, 900_000)),
    ).toEqual([0, 0, 45_000, 600_000, 7_200_000, 7_200_000]);
  });

  it('spreads honeypots over the real settlements alike: every one is drawn about as often', () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 4_000; i++) {
      const delay = decideHoneypotFeeDelay(settled, cryptoRandom(), 900_000);
      seen.set(delay, (seen.get(delay) ?? 0) + 1);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(settled);
    for (const count of seen.values()) expect(count).toBeGreaterThan(800);
  });

  it('is the fallback when no real review settled yet, and the one settlement whatever the draw', () => {
    expect(decideHoneypotFeeDelay([], 0.3, 900_000)).toBe(900_000);
    expect(decideHoneypotFeeDelay([], 0, 0)).toBe(0);
    expect([0, 0.5, 0.999].map((draw) => decideHoneypotFeeDelay([1_500], draw, 900_000))).toEqual([
      1_500, 1_500, 1_500,
    ]);
  });

  it('is whole milliseconds and never negative (a clock set back between submission and settlement)', () => {
    expect(decideHoneypotFeeDelay([1_234.6], 0, 900_000)).toBe(1_235);
    expect(decideHoneypotFeeDelay([-5_000], 0, 900_000)).toBe(0);
  });
});
