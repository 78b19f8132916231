import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalizationError, canonicalize } from './canonical.ts';
import { type CanonicalEvent, eventBytes, eventText, GENESIS_HASH, hashEvent } from './chain.ts';

// The audit's fast paths must give the reference bytes exactly: any difference breaks every hash.
const json = fc.jsonValue() as fc.Arbitrary<unknown>;
const event = fc.record({
  id: fc.uuid(),
  stream: fc.string({ unit: 'grapheme' }),
  revision: fc.nat(),
  type: fc.string(),
  data: fc.dictionary(fc.string({ unit: 'binary' }), json),
  metadata: fc.dictionary(fc.string(), json),
  recorded_at: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
}) as fc.Arbitrary<CanonicalEvent>;

describe('eventText', () => {
  it('is the text of eventBytes, and hashEvent hashes it after the previous hash', () => {
    fc.assert(
      fc.property(event, fc.nat(), (e, seq) => {
        const bytes = eventBytes(seq, e);
        expect(eventText(seq, e)).toBe(bytes.toString('utf8'));
        const expected = createHash('sha256').update(Buffer.alloc(32)).update(bytes).digest('hex');
        expect(hashEvent(GENESIS_HASH, seq, e)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('hashes events longer than its scratch buffer', () => {
    const e: CanonicalEvent = {
      id: 'x',
      stream: 's',
      revision: 0,
      type: 't',
      data: { big: 'é'.repeat(100_000) },
      metadata: {},
      recorded_at: '2025-01-01T00:00:00.000Z',
    };
    const bytes = eventBytes(1, e);
    expect(hashEvent(GENESIS_HASH, 1, e)).toBe(
      createHash('sha256').update(Buffer.alloc(32)).update(bytes).digest('hex'),
    );
  });

  it('refuses what eventBytes refuses, with the same message', () => {
    const e = {
      id: 'x',
      stream: 's',
      revision: 0,
      type: 't',
      data: { a: ['\ud800'] },
      metadata: {},
      recorded_at: 'r',
    };
    expect(() => eventBytes(1, e)).toThrow(CanonicalizationError);
    expect(() => eventText(1, e)).toThrow(/^\$\.data\.a\[0\]: string has a lone surrogate$/);
  });
});

describe('canonicalize', () => {
  it('gives the same text as the RFC 8785 reference serializer on any JSON value', () => {
    // The reference: members sorted by UTF-16 code units, ECMAScript strings and numbers.
    const reference = (v: unknown): string => {
      if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
      if (v !== null && typeof v === 'object') {
        const record = v as Record<string, unknown>;
        return `{${Object.keys(record)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${reference(record[k])}`)
          .join(',')}}`;
      }
      return JSON.stringify(v);
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalize(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });
});
