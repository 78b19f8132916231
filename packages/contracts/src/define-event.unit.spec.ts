import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { catalog, catalogOf, definitionOf, eventDefinitions, isEventType, producers } from './catalog.ts';
import { defineEvent, type EventTypeName } from './define-event.ts';

const data = z.object({ id: z.string() });

describe('defineEvent', () => {
  it('splits the type into producer, aggregate, name and version', () => {
    const definition = defineEvent('task-market.task-batch.published.v12', { description: 'd', data });
    expect(definition).toMatchObject({
      type: 'task-market.task-batch.published.v12',
      producer: 'task-market',
      aggregate: 'task-batch',
      name: 'published',
      version: 12,
      description: 'd',
    });
    expect(definition.data).toBe(data);
  });

  it.each([
    'Submissions.submission.approved.v1',
    'submissions.submission.v1',
    'submissions.submission.approved.v0',
    'submissions.submission.approved.v01',
    'submissions.submission.approved.1',
    'submissions.submission.approved.V1',
    'a.b.c.d.v1',
    'sub_missions.submission.approved.v1',
    '1submissions.submission.approved.v1',
    'submissions..approved.v1',
  ])('rejects the malformed type %j', (type) => {
    expect(() => defineEvent(type as EventTypeName, { description: 'd', data })).toThrow(
      /is not <producer>\.<aggregate>\.<event>\.v<major>/,
    );
  });
});

describe('the catalog', () => {
  it('maps every definition by its type', () => {
    for (const definition of eventDefinitions) {
      expect(catalog[definition.type]).toBe(definition);
      expect(definitionOf(definition.type)).toBe(definition);
      expect(isEventType(definition.type)).toBe(true);
    }
    expect(isEventType('diagnostics.probe.recorded.v99')).toBe(false);
    expect(isEventType('toString')).toBe(false);
    expect(producers).toContain('diagnostics');
  });

  it('refuses a type defined twice', () => {
    const once = defineEvent('a.b.happened.v1', { description: 'one', data });
    const twice = defineEvent('a.b.happened.v1', { description: 'two', data });
    expect(() => catalogOf([once, twice])).toThrow(/"a.b.happened.v1" is defined twice/);
  });
});
