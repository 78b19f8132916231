import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateAnswers, answerKey, canonicalAnswer } from './answers.ts';

describe('canonicalAnswer and answerKey', () => {
  it('treat a label set as one answer whatever the order and repeats', () => {
    expect(canonicalAnswer({ labels: ['dog', 'cat', 'dog'] })).toEqual({ labels: ['cat', 'dog'] });
    expect(answerKey({ labels: ['dog', 'cat', 'cat'] })).toBe(answerKey({ labels: ['cat', 'dog'] }));
    expect(answerKey({ labels: ['cat'] })).not.toBe(answerKey({ labels: ['cat', 'dog'] }));
  });

  it('sort labels by code unit, not by locale', () => {
    expect(canonicalAnswer({ labels: ['b', 'a', 'B', 'É'] })).toEqual({ labels: ['B', 'a', 'b', 'É'] });
  });

  it('keep only the compared field', () => {
    expect(canonicalAnswer({ option: 'yes', note: 'x' } as { option: string })).toEqual({ option: 'yes' });
    expect(answerKey({ preferred: 'tie' })).toBe('{"preferred":"tie"}');
  });
});

describe('aggregateAnswers', () => {
  it('is null when no judge answered', () => {
    expect(aggregateAnswers([])).toBeNull();
    expect(aggregateAnswers([{ answer: null, accuracy: 0.9 }])).toBeNull();
  });

  it('counts a unanimous answer like a unanimous binary vote (K = 2 at least)', () => {
    const result = aggregateAnswers([
      { answer: { option: 'cat' }, accuracy: 0.75 },
      { answer: { option: 'cat' }, accuracy: 0.75 },
      { answer: { option: 'cat' }, accuracy: 0.75 },
    ]);
    expect(result).toEqual({ answer: { option: 'cat' }, confidence: expect.closeTo(0.421875 / 0.4375, 12) });
    expect(aggregateAnswers([{ answer: { option: 'cat' }, accuracy: 0.75 }])?.confidence).toBeCloseTo(
      0.75,
      12,
    );
  });

  it('weighs validation answers by accuracy: one judge of 0.9 outweighs two of 0.6 (0.144 / 0.18)', () => {
    const result = aggregateAnswers([
      { answer: { option: 'dog' }, accuracy: 0.6 },
      { answer: { option: 'cat' }, accuracy: 0.9 },
      { answer: { option: 'dog' }, accuracy: 0.6 },
    ]);
    expect(result).toEqual({ answer: { option: 'cat' }, confidence: expect.closeTo(0.8, 12) });
  });

  it('uses K = number of distinct answers: a 2–1–1 RLHF preference of 0.8 is 0.064 / (0.064 + 2 · 0.004)', () => {
    // a: 0.8 · 0.8 · 0.1 · 0.1; b and tie: 0.1 · 0.1 · 0.8 · 0.1 each (K = 3).
    const result = aggregateAnswers([
      { answer: { preferred: 'a' as const }, accuracy: 0.8 },
      { answer: { preferred: 'b' as const }, accuracy: 0.8 },
      { answer: { preferred: 'a' as const }, accuracy: 0.8 },
      { answer: { preferred: 'tie' as const }, accuracy: 0.8 },
    ]);
    expect(result?.answer).toEqual({ preferred: 'a' });
    expect(result?.confidence).toBeCloseTo(0.0064 / (0.0064 + 2 * 0.0008), 12);
  });

  it('aggregates label sets as whole answers and returns the canonical set', () => {
    const result = aggregateAnswers([
      { answer: { labels: ['dog', 'cat'] }, accuracy: 0.75 },
      { answer: { labels: ['cat', 'dog', 'dog'] }, accuracy: 0.75 },
      { answer: { labels: ['cat'] }, accuracy: 0.75 },
      { answer: null, accuracy: 0.99 },
    ]);
    expect(result).toEqual({ answer: { labels: ['cat', 'dog'] }, confidence: expect.closeTo(0.75, 12) });
  });

  it('breaks a tie by the smallest key, whatever order the judges answered in', () => {
    const cat = { answer: { option: 'cat' }, accuracy: 0.8 };
    const dog = { answer: { option: 'dog' }, accuracy: 0.8 };
    expect(aggregateAnswers([dog, cat])).toEqual({
      answer: { option: 'cat' },
      confidence: expect.closeTo(0.5, 12),
    });
    expect(aggregateAnswers([cat, dog])?.answer).toEqual({ option: 'cat' });
  });

  it('does not depend on the order of votes', () => {
    const vote = fc.record({
      answer: fc.option(fc.record({ labels: fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }) })),
      accuracy: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc
          .array(vote, { maxLength: 12 })
          .chain((votes) =>
            fc.tuple(fc.constant(votes), fc.shuffledSubarray(votes, { minLength: votes.length })),
          ),
        ([votes, reordered]) => {
          const a = aggregateAnswers(votes);
          const b = aggregateAnswers(reordered);
          expect(b?.answer).toEqual(a?.answer);
          if (a && b) expect(b.confidence).toBeCloseTo(a.confidence, 12);
        },
      ),
    );
  });
});
