import { describe, expect, it } from 'vitest';
import { namespace, producerOf, streamFor, subjectFor, typeFromSubject } from './routing.ts';

const TYPE = 'submissions.submission.approved.v1';

describe('routing without a prefix', () => {
  it('uses the type as the subject and the producer as the stream', () => {
    expect(subjectFor(TYPE)).toBe(TYPE);
    expect(typeFromSubject(TYPE)).toBe(TYPE);
    expect(streamFor('submissions')).toEqual({ name: 'SUBMISSIONS', subjects: ['submissions.>'] });
  });

  it('turns hyphens into underscores in stream names', () => {
    expect(streamFor('task-market')).toEqual({ name: 'TASK_MARKET', subjects: ['task-market.>'] });
  });
});

describe('routing with a prefix', () => {
  const ns = namespace('run_42');

  it('namespaces subjects and streams', () => {
    expect(subjectFor(TYPE, ns)).toBe(`run_42.${TYPE}`);
    expect(typeFromSubject(`run_42.${TYPE}`, ns)).toBe(TYPE);
    expect(streamFor('task-market', ns)).toEqual({
      name: 'RUN_42_TASK_MARKET',
      subjects: ['run_42.task-market.>'],
    });
  });

  it('leaves a subject of another namespace as it is', () => {
    expect(typeFromSubject(TYPE, ns)).toBe(TYPE);
    expect(typeFromSubject(`other.${TYPE}`, ns)).toBe(`other.${TYPE}`);
  });

  it('treats an empty prefix as none', () => {
    expect(namespace()).toEqual({ prefix: '' });
    expect(subjectFor(TYPE, namespace(''))).toBe(TYPE);
  });

  it.each(['Upper', 'with.dot', 'with-hyphen', 'with space', '*', '>'])('rejects the prefix %j', (prefix) => {
    expect(() => namespace(prefix)).toThrow(/invalid subject prefix/);
  });
});

describe('producerOf', () => {
  it('is the first segment of the type', () => {
    expect(producerOf(TYPE)).toBe('submissions');
  });

  it('rejects a type without one', () => {
    expect(() => producerOf('')).toThrow(/has no producer/);
    expect(() => producerOf('.x.y.v1')).toThrow(/has no producer/);
  });
});
