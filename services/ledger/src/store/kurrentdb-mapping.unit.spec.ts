import { randomUUID } from 'node:crypto';
import {
  ANY,
  AppendConsistencyViolationError,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import { DuplicateEventIdError, type StreamAppend, WrongExpectedRevisionError } from './event-store.ts';
import {
  decodeCheckpoint,
  decodeMetadata,
  encodeCheckpoint,
  EVENT_ID_STREAM_PREFIX,
  isAfter,
  isStreamNotFound,
  METADATA_PROPERTY,
  toAppendRequests,
  toAppendResult,
  toExpectedState,
  toRecordedEvent,
  toStoreError,
  USER_STREAMS_REGEX,
} from './kurrentdb-mapping.ts';

const id = () => randomUUID();

describe('KurrentDB mapping', () => {
  it('maps expected revisions to the client expected states', () => {
    expect(toExpectedState('any')).toBe(ANY);
    expect(toExpectedState('no_stream')).toBe(NO_STREAM);
    expect(toExpectedState('exists')).toBe(STREAM_EXISTS);
    expect(toExpectedState(0)).toBe(0n);
    expect(toExpectedState(41)).toBe(41n);
  });

  it('builds one request per stream, plus a NO_STREAM reservation per event id', () => {
    const [e1, e2, e3] = [id(), id(), id()];
    const appends: StreamAppend[] = [
      {
        stream: 'transfer-1',
        expected: 'no_stream',
        events: [{ id: e1, type: 'transfer-created', data: { amount: 5 }, metadata: { cause: { id: 'x' } } }],
      },
      {
        stream: 'account-a@EUR',
        expected: 3,
        events: [
          { id: e2, type: 'account-entry', data: { d: 1 } },
          { id: e3, type: 'account-entry', data: { d: 2 }, metadata: {} },
        ],
      },
    ];
    let n = 0;
    const requests = toAppendRequests(appends, () => `00000000-0000-4000-8000-00000000000${n++}`);
    expect(requests.map((r) => [r.streamName, r.expectedState])).toEqual([
      ['transfer-1', NO_STREAM],
      ['account-a@EUR', 3n],
      [`${EVENT_ID_STREAM_PREFIX}${e1}`, NO_STREAM],
      [`${EVENT_ID_STREAM_PREFIX}${e2}`, NO_STREAM],
      [`${EVENT_ID_STREAM_PREFIX}${e3}`, NO_STREAM],
    ]);
    expect(requests[0]!.events[0]).toEqual({
      id: e1,
      contentType: 'application/json',
      type: 'transfer-created',
      data: { amount: 5 },
      metadata: { [METADATA_PROPERTY]: '{"cause":{"id":"x"}}' },
    });
    // The client refuses metadata with non-string values: everything we send is strings or absent.
    for (const request of requests) {
      for (const event of request.events) {
        const metadata = event.metadata as Record<string, unknown> | undefined;
        expect(metadata === undefined || Object.values(metadata).every((v) => typeof v === 'string')).toBe(
          true,
        );
      }
    }
    expect(requests[1]!.events.map((e) => e.metadata)).toEqual([undefined, undefined]);
    expect(requests[2]!.events[0]).toMatchObject({
      id: '00000000-0000-4000-8000-000000000000',
      data: { event_id: e1, stream: 'transfer-1' },
    });
  });

  it('reports revisions in request order, without the reservations', () => {
    const appends: StreamAppend[] = [
      { stream: 'b', expected: 'any', events: [] },
      { stream: 'a', expected: 'any', events: [] },
    ];
    const result = toAppendResult(
      {
        position: 10n,
        responses: [
          { streamName: 'a', revision: 4n },
          { streamName: `${EVENT_ID_STREAM_PREFIX}x`, revision: 0n },
          { streamName: 'b', revision: 0n },
        ],
      },
      appends,
    );
    expect(result).toEqual({
      streams: [
        { stream: 'b', revision: 0 },
        { stream: 'a', revision: 4 },
      ],
    });
    expect(() => toAppendResult({ position: 1n, responses: [] }, appends)).toThrow(/did not report/);
  });

  it('round-trips metadata and ignores properties the server adds', () => {
    expect(decodeMetadata({ [METADATA_PROPERTY]: '{"a":[1,{"b":null}]}', '$schema.name': 't' })).toEqual({
      a: [1, { b: null }],
    });
    expect(decodeMetadata(undefined)).toEqual({});
    expect(decodeMetadata(new Uint8Array([1]))).toEqual({});
    expect(decodeMetadata({ other: 'x' })).toEqual({});
  });

  it('encodes positions as fixed-width checkpoints that sort as positions do', () => {
    const positions = [
      { commit: 0n, prepare: 0n },
      { commit: 9n, prepare: 9n },
      { commit: 10n, prepare: 2n },
      { commit: 10n, prepare: 10n },
      { commit: 18446744073709551615n, prepare: 18446744073709551615n },
    ];
    const checkpoints = positions.map(encodeCheckpoint);
    expect([...checkpoints].sort()).toEqual(checkpoints);
    for (const [i, checkpoint] of checkpoints.entries())
      expect(decodeCheckpoint(checkpoint)).toEqual(positions[i]);
    expect(() => decodeCheckpoint('10.2')).toThrow(TypeError);
    expect(isAfter({ commit: 10n, prepare: 10n }, { commit: 10n, prepare: 2n })).toBe(true);
    expect(isAfter({ commit: 10n, prepare: 2n }, { commit: 10n, prepare: 2n })).toBe(false);
    expect(isAfter({ commit: 9n, prepare: 99n }, { commit: 10n, prepare: 2n })).toBe(false);
  });

  it('filters out system streams and id reservations on the server', () => {
    const regex = new RegExp(USER_STREAMS_REGEX);
    expect(regex.test('account-user:1@EUR')).toBe(true);
    expect(regex.test('transfer-1')).toBe(true);
    expect(regex.test('$stats-0.0.0.0:2113')).toBe(false);
    expect(regex.test(`${EVENT_ID_STREAM_PREFIX}${id()}`)).toBe(false);
  });

  describe('recorded events', () => {
    const created = new Date('2025-01-02T03:04:05Z');
    const base = {
      streamId: 'account-a@EUR',
      id: id(),
      isJson: true as const,
      revision: 7n,
      type: 'account-entry',
      created,
      data: { d: 1 },
      metadata: { [METADATA_PROPERTY]: '{"m":1}' },
      position: { commit: 100n, prepare: 90n },
    };

    it('maps a JSON event with its position as checkpoint', () => {
      expect(toRecordedEvent({ event: base })).toEqual({
        id: base.id,
        stream: 'account-a@EUR',
        revision: 7,
        type: 'account-entry',
        data: { d: 1 },
        metadata: { m: 1 },
        recordedAt: created,
        checkpoint: encodeCheckpoint({ commit: 100n, prepare: 90n }),
      });
      const { position: _, ...withoutPosition } = base;
      expect(toRecordedEvent({ event: withoutPosition, commitPosition: 5n })?.checkpoint).toBe(
        encodeCheckpoint({ commit: 5n, prepare: 5n }),
      );
      expect(() => toRecordedEvent({ event: withoutPosition })).toThrow(/without a position/);
    });

    it('hides system events, system streams, reservations and bare links', () => {
      expect(toRecordedEvent({ event: { ...base, type: '$metadata' } })).toBeUndefined();
      expect(toRecordedEvent({ event: { ...base, streamId: '$ce-account' } })).toBeUndefined();
      expect(toRecordedEvent({ event: { ...base, streamId: `${EVENT_ID_STREAM_PREFIX}x` } })).toBeUndefined();
      expect(toRecordedEvent({})).toBeUndefined();
    });

    it('refuses events this store cannot have written', () => {
      expect(() =>
        toRecordedEvent({
          event: { ...base, isJson: false, data: new Uint8Array([1]), metadata: undefined },
        }),
      ).toThrow(TypeError);
      expect(() => toRecordedEvent({ event: { ...base, data: [1, 2] } })).toThrow(TypeError);
    });
  });

  describe('errors', () => {
    const appends: StreamAppend[] = [
      { stream: 'transfer-1', expected: 'no_stream', events: [] },
      { stream: 'account-a@EUR', expected: 3, events: [] },
      { stream: 'account-b@EUR', expected: 'exists', events: [] },
    ];

    it('maps a revision conflict of multiStreamAppend to WrongExpectedRevisionError', () => {
      const error = toStoreError(
        WrongExpectedVersionError.fromRevisionConflict({
          stream: 'account-a@EUR',
          expectedRevision: '3',
          actualRevision: '5',
        }),
        appends,
      );
      expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      expect(error).toMatchObject({ stream: 'account-a@EUR', expected: 3, actual: 5 });

      const missing = toStoreError(
        WrongExpectedVersionError.fromRevisionConflict({
          stream: 'account-b@EUR',
          expectedRevision: '-4',
          actualRevision: '-1',
        }),
        appends,
      );
      expect(missing).toMatchObject({ stream: 'account-b@EUR', expected: 'exists', actual: 'no_stream' });
    });

    it('maps a conflict on an id reservation to DuplicateEventIdError', () => {
      const taken = id();
      const error = toStoreError(
        new WrongExpectedVersionError(undefined, {
          streamName: `${EVENT_ID_STREAM_PREFIX}${taken}`,
          expected: NO_STREAM,
          current: 0n,
        }),
        appends,
      );
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect(error).toMatchObject({ eventId: taken });
    });

    it('maps a consistency violation to WrongExpectedRevisionError', () => {
      const violation = new AppendConsistencyViolationError(undefined as never, {
        violationsList: [
          { checkIndex: 0, streamState: { stream: 'transfer-1', expectedState: '-1', actualState: '0' } },
        ],
      });
      const error = toStoreError(violation, appends);
      expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      expect(error).toMatchObject({ stream: 'transfer-1', expected: 'no_stream', actual: 0 });
    });

    it('passes other errors through', () => {
      const unavailable = new UnavailableError();
      expect(toStoreError(unavailable, appends)).toBe(unavailable);
      expect(toStoreError('boom', appends)).toBe('boom');
    });

    it('recognises a missing stream', () => {
      expect(isStreamNotFound(new StreamNotFoundError(undefined, 'nope'))).toBe(true);
      expect(isStreamNotFound(new UnavailableError())).toBe(false);
    });
  });
});
