import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../store/event-store.ts';
import { encodeCheckpoint } from '../store/postgres-store.ts';
import { canonicalEventOf, chainedEventOf, eventParts, eventText } from './chain.ts';
import { canonicalize } from './canonical.ts';
import {
  canonicalEventOfRow,
  chainedEventOfRow,
  type EventRow,
  isoOfTimestamp,
  jsonOf,
  prefetchedPages,
} from './pg-rows.ts';

// The audit's rows must give, once parsed, exactly what pg's own parsers give the store's readAll:
// any difference in a timestamp or a payload changes every hash after it.
const pgTimestamp = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date;
const viaPg = (text: string) => pgTimestamp(text).toISOString();

/** A timestamptz as the server writes it in the ISO DateStyle, TimeZone UTC: 0 to 6 fraction digits. */
const serverText = fc
  .tuple(
    fc.date({
      min: new Date('0100-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    fc.integer({ min: 0, max: 999_999 }),
    fc.integer({ min: 0, max: 6 }),
  )
  .map(([date, micros, digits]) => {
    const base = date.toISOString().slice(0, 19).replace('T', ' ');
    const fraction = digits === 0 ? '' : `.${String(micros).padStart(6, '0').slice(0, digits)}`;
    return `${base}${fraction}+00`;
  });

describe('isoOfTimestamp', () => {
  it("gives pg's parse, as toISOString writes it, for the server's UTC text", () => {
    fc.assert(
      fc.property(serverText, (text) => {
        expect(isoOfTimestamp(text)).toBe(viaPg(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('rewrites the usual text itself (milliseconds truncated as pg does)', () => {
    expect(isoOfTimestamp('2026-01-01 12:34:56.789999+00')).toBe('2026-01-01T12:34:56.789Z');
    expect(isoOfTimestamp('2024-02-29 00:00:00+00')).toBe('2024-02-29T00:00:00.000Z');
    expect(isoOfTimestamp('2026-03-05 01:02:03.05+00')).toBe('2026-03-05T01:02:03.050Z');
  });

  it("leaves every other text to pg's parser, and does what it does", () => {
    for (const text of [
      '2026-01-01 12:00:00+02',
      '2026-01-01 12:00:00.5-05:30',
      '0099-06-01 00:00:00+00',
      '0001-01-01 00:00:00+00 BC',
      '12026-01-01 00:00:00+00',
      '2026-01-01 00:00:00.+00',
    ]) {
      expect(isoOfTimestamp(text)).toBe(viaPg(text));
    }
    // pg gives no Date for these: the same failure as the store's event would meet.
    for (const text of ['infinity', '2026-01-01T00:00:00Z', null]) {
      expect(() => isoOfTimestamp(text)).toThrow(TypeError);
    }
  });

  it('agrees with pg on any text near the usual form', () => {
    const mangled = fc
      .tuple(serverText, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([text, at, c]) => {
        const i = at % text.length;
        return text.slice(0, i) + c + text.slice(i + 1);
      });
    fc.assert(
      fc.property(mangled, (text) => {
        let expected: string | undefined;
        try {
          expected = viaPg(text);
        } catch {
          expected = undefined;
        }
        if (expected === undefined) expect(() => isoOfTimestamp(text)).toThrow();
        else expect(isoOfTimestamp(text)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('rows to events', () => {
  const recorded = fc.record({
    id: fc.uuid(),
    stream: fc.string(),
    revision: fc.nat(),
    type: fc.string(),
    data: fc.dictionary(fc.string(), fc.jsonValue()),
    metadata: fc.oneof(fc.constant({}), fc.dictionary(fc.string(), fc.jsonValue())),
    tx: fc.bigInt({ min: 1n, max: 2n ** 63n }),
    pos: fc.bigInt({ min: 1n, max: 2n ** 63n }),
    recordedAt: fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
  });

  it('make the events chainedEventOf and canonicalEventOf make of the store’s RecordedEvent', () => {
    fc.assert(
      fc.property(recorded, fc.nat(), (r, seq) => {
        const event = {
          id: r.id,
          stream: r.stream,
          revision: r.revision,
          type: r.type,
          // Through JSON, as jsonb gives it back (no -0, no undefined).
          data: JSON.parse(JSON.stringify(r.data)) as RecordedEvent['data'],
          metadata: JSON.parse(JSON.stringify(r.metadata)) as RecordedEvent['metadata'],
          recordedAt: r.recordedAt,
          checkpoint: encodeCheckpoint(r.tx.toString(), r.pos.toString()),
        } satisfies RecordedEvent;
        const row: EventRow = [
          event.checkpoint,
          event.stream,
          String(event.revision),
          event.id,
          event.type,
          JSON.stringify(event.data),
          JSON.stringify(event.metadata),
          r.recordedAt.toISOString().replace('T', ' ').replace('Z', '+00'),
        ];
        expect(chainedEventOfRow(seq, row)).toEqual(chainedEventOf(seq, event));
        expect(canonicalEventOfRow(row)).toEqual(canonicalEventOf(event));
      }),
      { numRuns: 1000 },
    );
  });

  it('parse jsonb text as pg does', () => {
    expect(jsonOf('{}')).toEqual({});
    expect(jsonOf('{"a": [1, {"b": null}]}')).toEqual({ a: [1, { b: null }] });
    expect(jsonOf(null)).toBeNull();
    expect(() => jsonOf('{')).toThrow(SyntaxError);
  });
});

describe('eventParts', () => {
  it('rebuild the hashed text with the seq, and the exported event without it', () => {
    const event = fc.record({
      id: fc.uuid(),
      stream: fc.string(),
      revision: fc.nat(),
      type: fc.string(),
      data: fc.dictionary(fc.string(), fc.jsonValue()),
      metadata: fc.dictionary(fc.string(), fc.jsonValue()),
      recorded_at: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    }) as fc.Arbitrary<Parameters<typeof eventParts>[0]>;
    fc.assert(
      fc.property(event, fc.nat(), (e, seq) => {
        const [head, tail] = eventParts(e);
        expect(`${head},"seq":${seq},${tail}`).toBe(eventText(seq, e));
        expect(`${head},${tail}`).toBe(canonicalize(e));
      }),
      { numRuns: 500 },
    );
  });
});

describe('prefetchedPages', () => {
  it('asks for the next page before the current one is used, and stops at a short page', async () => {
    const asked: (number | undefined)[] = [];
    const fetch = (after: number | undefined) => {
      asked.push(after);
      const from = (after ?? 0) + 1;
      return Promise.resolve(
        Array.from({ length: Math.max(0, Math.min(3, 7 - from + 1)) }, (_, i) => from + i),
      );
    };
    const pages: number[][] = [];
    for await (const page of prefetchedPages(fetch, 3)) {
      pages.push(page);
      // The page after this one is already asked for while this one is in hand.
      if (page.length === 3) expect(asked.at(-1)).toBe(page.at(-1));
    }
    expect(pages).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(asked).toEqual([undefined, 3, 6]);
  });
});
