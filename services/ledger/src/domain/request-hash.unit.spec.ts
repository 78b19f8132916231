import { describe, expect, it } from 'vitest';
import { canonicalJson, requestHash } from './request-hash.ts';
import { transferRequestSchema, type TransferRequest } from './transfers.ts';
import { request } from './__fixtures__/ledger.ts';

const hash = (raw: TransferRequest) => requestHash(transferRequestSchema.parse(raw));

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,1]},"b":1}');
  });

  it('drops undefined members and escapes strings as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: 'é"\n' })).toBe('{"b":"é\\"\\n"}');
  });

  it('refuses what JSON cannot carry exactly', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ when: new Date() })).toThrow(TypeError);
    expect(() => canonicalJson(10n)).toThrow(TypeError);
  });
});

describe('requestHash', () => {
  it('is the SHA-256 of the canonical request, the same whatever the key order', () => {
    const a = request({ metadata: { x: '1', y: '2' } });
    const reordered = Object.fromEntries(Object.entries({ ...a, metadata: { y: '2', x: '1' } }).reverse());
    expect(hash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(reordered as unknown as TransferRequest)).toBe(hash(a));
  });

  it('makes defaults explicit: no metadata is {}, no balancing_debit is false', () => {
    const a = request();
    expect(hash({ ...a, metadata: {}, balancing_debit: false })).toBe(hash(a));
  });

  it('differs when any field differs', () => {
    const a = request();
    const variants: Partial<TransferRequest>[] = [
      { amount: 101 },
      { currency: 'EUR' },
      { code: 'bonus' },
      { metadata: { k: 'v' } },
      { pending: { timeout_seconds: null } },
      { pending: { timeout_seconds: 5 } },
      { balancing_debit: true },
      { debit_account: 'platform:promotions' },
    ];
    const hashes = new Set([hash(a), ...variants.map((v) => hash({ ...a, ...v }))]);
    expect(hashes.size).toBe(variants.length + 1);
  });
});
