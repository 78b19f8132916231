import { validate as isUuid, version as uuidVersion } from 'uuid';
import { describe, expect, it } from 'vitest';
import { buildEvent, causedBy, EventValidationError, parseEvent } from './build-event.ts';

const PROBE = 'diagnostics.probe.recorded.v1';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function thrown(fn: () => unknown): EventValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EventValidationError) return error;
    throw error;
  }
  throw new Error('expected an EventValidationError');
}

describe('buildEvent', () => {
  it('fills a UUIDv7 id, the time, the producer as source and its own id as correlation', () => {
    const before = Date.now();
    const event = buildEvent(PROBE, { probe_id: 'p-1' }, { subject: 'p-1' });

    expect(isUuid(event.id)).toBe(true);
    expect(uuidVersion(event.id)).toBe(7);
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(event.time)).toBeLessThanOrEqual(Date.now());
    expect(event).toMatchObject({
      specversion: '1.0',
      type: PROBE,
      source: 'diagnostics',
      subject: 'p-1',
      datacontenttype: 'application/json',
      correlationid: event.id,
      data: { probe_id: 'p-1' },
    });
    expect(event).not.toHaveProperty('causationid');
    expect(event).not.toHaveProperty('traceparent');
  });

  it('uses the meta it is given', () => {
    const time = new Date('2025-01-02T03:04:05.678Z');
    const event = buildEvent(
      PROBE,
      { probe_id: 'p-1', note: 'hi' },
      {
        subject: 's',
        source: 'tests',
        id: '0190f8a4-7a40-7000-8000-000000000001',
        time,
        correlationId: 'c-1',
      },
    );
    expect(event).toMatchObject({
      id: '0190f8a4-7a40-7000-8000-000000000001',
      time: '2025-01-02T03:04:05.678Z',
      source: 'tests',
      correlationid: 'c-1',
      data: { probe_id: 'p-1', note: 'hi' },
    });
  });

  it('gives each event its own id', () => {
    const ids = new Set(
      Array.from({ length: 50 }, () => buildEvent(PROBE, { probe_id: 'p' }, { subject: 's' }).id),
    );
    expect(ids.size).toBe(50);
  });

  it('carries correlation, causation and traceparent from the cause with causedBy', () => {
    const cause = buildEvent(
      PROBE,
      { probe_id: 'p-1' },
      { subject: 'p-1', correlationId: 'c-1', traceparent: TRACEPARENT },
    );
    const effect = buildEvent(PROBE, { probe_id: 'p-2' }, causedBy(cause, 'p-2'));

    expect(effect).toMatchObject({
      subject: 'p-2',
      correlationid: 'c-1',
      causationid: cause.id,
      traceparent: TRACEPARENT,
    });
    expect(effect.id).not.toBe(cause.id);
  });

  it('leaves traceparent out when the cause has none', () => {
    const cause = buildEvent(PROBE, { probe_id: 'p-1' }, { subject: 'p-1' });
    expect(causedBy(cause, 'p-2')).toEqual({
      subject: 'p-2',
      correlationId: cause.id,
      causationId: cause.id,
    });
  });

  it('strips data fields the schema does not know', () => {
    const data = { probe_id: 'p-1', email: 'x@example.com' } as { probe_id: string };
    expect(buildEvent(PROBE, data, { subject: 's' }).data).toEqual({ probe_id: 'p-1' });
  });

  it('rejects invalid data with INVALID_DATA', () => {
    const error = thrown(() => buildEvent(PROBE, { probe_id: '' }, { subject: 's' }));
    expect(error).toMatchObject({ name: 'EventValidationError', code: 'INVALID_DATA', type: PROBE });
    expect(error.message).toContain('INVALID_DATA (diagnostics.probe.recorded.v1)');
  });

  it('rejects invalid meta with INVALID_ENVELOPE', () => {
    expect(
      thrown(() => buildEvent(PROBE, { probe_id: 'p' }, { subject: 's', traceparent: 'nope' })).code,
    ).toBe('INVALID_ENVELOPE');
    expect(thrown(() => buildEvent(PROBE, { probe_id: 'p' }, { subject: '' })).code).toBe('INVALID_ENVELOPE');
    expect(thrown(() => buildEvent(PROBE, { probe_id: 'p' }, { subject: 's', id: 'not-a-uuid' })).code).toBe(
      'INVALID_ENVELOPE',
    );
  });

  it('rejects a type that is not catalogued with UNKNOWN_EVENT_TYPE (for callers without types)', () => {
    const type = 'diagnostics.probe.deleted.v1' as typeof PROBE;
    expect(thrown(() => buildEvent(type, { probe_id: 'p' }, { subject: 's' })).code).toBe(
      'UNKNOWN_EVENT_TYPE',
    );
  });

  it('only compiles with a catalogued type and its data', () => {
    // These lines are checked by `tsc`: each must be a type error.
    const meta = { subject: 's' };
    // @ts-expect-error: not a catalogued event type
    expect(() => buildEvent('diagnostics.probe.deleted.v1', { probe_id: 'p' }, meta)).toThrow(
      EventValidationError,
    );
    // @ts-expect-error: probe_id must be a string
    expect(() => buildEvent(PROBE, { probe_id: 1 }, meta)).toThrow(EventValidationError);
    // @ts-expect-error: probe_id is required
    expect(() => buildEvent(PROBE, { note: 'n' }, meta)).toThrow(EventValidationError);
    // @ts-expect-error: the subject is required
    expect(() => buildEvent(PROBE, { probe_id: 'p' }, {})).toThrow(EventValidationError);
  });
});

describe('parseEvent', () => {
  const wire = (): Record<string, unknown> =>
    JSON.parse(
      JSON.stringify(buildEvent(PROBE, { probe_id: 'p-1', note: 'n' }, { subject: 'p-1' })),
    ) as Record<string, unknown>;

  it('accepts what buildEvent produced, after a trip through JSON', () => {
    const raw = wire();
    const event = parseEvent(raw);
    expect(event).toEqual(raw);
    if (event.type === PROBE) expect(event.data.probe_id).toBe('p-1'); // narrowed by type
  });

  it('rejects a bad envelope with INVALID_ENVELOPE', () => {
    expect(thrown(() => parseEvent('nope')).code).toBe('INVALID_ENVELOPE');
    expect(thrown(() => parseEvent({ ...wire(), specversion: '0.3' })).code).toBe('INVALID_ENVELOPE');
    expect(thrown(() => parseEvent({ ...wire(), id: 'x' })).code).toBe('INVALID_ENVELOPE');
    const { time: _time, ...withoutTime } = wire();
    const error = thrown(() => parseEvent(withoutTime));
    expect(error.code).toBe('INVALID_ENVELOPE');
    expect(error.type).toBeUndefined();
  });

  it('rejects a type that is not catalogued with UNKNOWN_EVENT_TYPE', () => {
    const error = thrown(() => parseEvent({ ...wire(), type: 'diagnostics.probe.recorded.v2' }));
    expect(error).toMatchObject({ code: 'UNKNOWN_EVENT_TYPE', type: 'diagnostics.probe.recorded.v2' });
  });

  it('rejects bad data with INVALID_DATA', () => {
    expect(thrown(() => parseEvent({ ...wire(), data: { note: 'no probe id' } })).code).toBe('INVALID_DATA');
    expect(thrown(() => parseEvent({ ...wire(), data: { probe_id: 7 } })).code).toBe('INVALID_DATA');
    expect(thrown(() => parseEvent({ ...wire(), data: null })).code).toBe('INVALID_DATA');
  });

  it('accepts and strips data fields it does not know, so an additive optional field breaks no old consumer', () => {
    const event = parseEvent({
      ...wire(),
      data: { probe_id: 'p-1', added_in_a_later_release: { any: 'thing' } },
    });
    expect(event.data).toEqual({ probe_id: 'p-1' });
  });

  it('strips envelope attributes it does not know', () => {
    expect(parseEvent({ ...wire(), someextension: 'x' })).not.toHaveProperty('someextension');
  });
});
