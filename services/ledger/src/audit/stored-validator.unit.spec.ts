import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accountKinds } from '../domain/accounts.ts';
import { type StoredEventType, storedEventSchemas } from '../domain/events.ts';
import { transferCodes } from '../domain/transfers.ts';
import { checkStored, fastAccepts } from './stored-validator.ts';

// The hand-written check must accept exactly what the zod schemas (the source of truth) accept.
const types = Object.keys(storedEventSchemas) as StoredEventType[];
const causes = ['transfer-created', 'pending-posted', 'pending-voided', 'pending-expired'] as const;

const iso = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((d) =>
    fc.constantFrom(
      d.toISOString(),
      d
        .toISOString()
        .replace('.', ',')
        .replace(',', '.')
        .replace(/\.\d+Z$/, 'Z'),
      d.toISOString().replace('Z', '+02:00'),
      d.toISOString().replace(/\.(\d+)Z$/, '.$1123-11:30'),
    ),
  );
const amount = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(0));
const delta = fc.oneof(
  fc.integer(),
  fc.constant(-Number.MAX_SAFE_INTEGER),
  fc.constant(Number.MAX_SAFE_INTEGER),
);
const uuid = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
);

const valid: Record<StoredEventType, fc.Arbitrary<Record<string, unknown>>> = {
  'account-opened': fc.record({
    account_id: fc.string(),
    currency: fc.string(),
    kind: fc.constantFrom(...accountKinds),
    owner: fc.option(fc.string(), { nil: null }),
    flags: fc.record({
      debits_must_not_exceed_credits: fc.boolean(),
      credits_must_not_exceed_debits: fc.boolean(),
    }),
    at: iso,
  }),
  'account-entry': fc.record({
    account_id: fc.string(),
    currency: fc.string(),
    transfer_id: uuid,
    cause: fc.constantFrom(...causes),
    debits_posted: delta,
    credits_posted: delta,
    debits_pending: delta,
    credits_pending: delta,
    at: iso,
  }),
  'transfer-created': fc.record({
    id: uuid,
    debit_account: fc.string(),
    credit_account: fc.string(),
    amount,
    requested_amount: amount,
    currency: fc.string(),
    code: fc.constantFrom(...transferCodes),
    metadata: fc.dictionary(fc.string(), fc.string()),
    pending: fc.boolean(),
    expires_at: fc.option(iso, { nil: null }),
    balancing_debit: fc.boolean(),
    linked_ids: fc.array(uuid, { maxLength: 3 }),
    request_hash: fc.string(),
    at: iso,
  }),
  'pending-posted': fc.record({ transfer_id: uuid, amount, at: iso }),
  'pending-voided': fc.record({ transfer_id: uuid, amount, at: iso }),
  'pending-expired': fc.record({ transfer_id: uuid, amount, at: iso }),
};

/** Values a member may be replaced with: near misses of every format, and anything at all. */
const wrong = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    -1,
    1.5,
    Number.MAX_SAFE_INTEGER + 1,
    -Number.MAX_SAFE_INTEGER - 1,
    Number.NaN,
    Infinity,
    '1',
    '',
    null,
    undefined,
    true,
    [],
    {},
    'not-a-uuid',
    '0190a6f8-6c3e-0000-8000-0000000000aa', // version 0
    '0190a6f8-6c3e-7000-c000-0000000000aa', // bad variant
    '2025-01-01',
    '2025-01-01T00:00:00',
    '2025-02-30T00:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-01-01T00:00:00.Z',
    '2025-01-01 00:00:00Z',
    'world',
    'unknown_kind',
  ),
  fc.uuid().map((u) => `${u} `),
  fc.string(),
  fc.integer(),
  fc.double(),
);

/** A valid payload with one change: a member replaced, removed, added, or nested wrongly. */
const mutated = (type: StoredEventType) =>
  fc
    .tuple(
      valid[type],
      fc.nat(),
      wrong,
      fc.constantFrom('replace', 'delete', 'add', 'flags', 'metadata', 'linked'),
    )
    .map(([data, index, value, how]) => {
      const copy: Record<string, unknown> = { ...data };
      const keys = Object.keys(copy);
      const key = keys[index % keys.length]!;
      if (how === 'replace') copy[key] = value;
      else if (how === 'delete') delete copy[key];
      else if (how === 'add') copy.extra = value;
      else if (how === 'flags' && type === 'account-opened')
        copy.flags = {
          ...(copy.flags as object),
          [index % 2 ? 'debits_must_not_exceed_credits' : 'x']: value,
        };
      else if (how === 'metadata' && type === 'transfer-created')
        copy.metadata = { ...(copy.metadata as object), [String(index)]: value };
      else if (how === 'linked' && type === 'transfer-created')
        copy.linked_ids = [...(copy.linked_ids as []), value];
      else copy[key] = value;
      return copy;
    });

/** JSON zod judges by rules of its own (its record skips a "__proto__" key): the fast check refuses it. */
const leftToZod = (data: Record<string, unknown>) =>
  typeof data.metadata === 'object' && data.metadata !== null && Object.hasOwn(data.metadata, '__proto__');

const zodAccepts = (type: StoredEventType, data: unknown) => storedEventSchemas[type].safeParse(data).success;

describe('the hand-written stored-event check', () => {
  it.each(types)('accepts every valid %s payload, as zod does', (type) => {
    fc.assert(
      fc.property(valid[type], (data) => {
        expect(zodAccepts(type, data)).toBe(true);
        expect(fastAccepts(type, data)).toBe(!leftToZod(data));
      }),
      { numRuns: 300 },
    );
  });

  it.each(types)('accepts a mutated %s payload exactly when zod does', (type) => {
    let refused = 0;
    fc.assert(
      fc.property(mutated(type), (data) => {
        const zod = zodAccepts(type, data);
        // The one refusal left to zod on purpose (see below): a metadata key "__proto__".
        expect(fastAccepts(type, data)).toBe(zod && !leftToZod(data));
        if (!zod) refused += 1;
      }),
      { numRuns: 1000 },
    );
    // The mutations do reach refusals: the property is not only about valid payloads.
    expect(refused).toBeGreaterThan(100);
  });

  it('never accepts what zod refuses, whatever the value and the type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.anything(), (type, data) => {
        if (fastAccepts(type, data)) expect(zodAccepts(type, data)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses JSON zod has to judge itself, and checkStored then gives zod’s verdict', () => {
    // A metadata key "__proto__" is skipped by zod's record: accepted there, left to zod here.
    const data = JSON.parse(
      '{"id":"0190a6f8-6c3e-7000-8000-0000000000aa","debit_account":"a","credit_account":"b","amount":1,' +
        '"requested_amount":1,"currency":"USD","code":"topup","metadata":{"__proto__":5},"pending":false,' +
        '"expires_at":null,"balancing_debit":false,"linked_ids":[],"request_hash":"h","at":"2025-01-01T00:00:00Z"}',
    ) as unknown;
    expect(fastAccepts('transfer-created', data)).toBe(false);
    expect(zodAccepts('transfer-created', data)).toBe(true);
    expect(typeof checkStored('transfer-created', data)).toBe('object');
  });
});

describe('checkStored', () => {
  it('gives the payload itself when valid, and zod’s first issue when not', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...types).chain((type) => fc.tuple(fc.constant(type), mutated(type))),
        ([type, data]) => {
          const result = checkStored(type, data);
          const zod = storedEventSchemas[type].safeParse(data);
          if (zod.success) {
            expect(result).toEqual({ type, data: expect.anything() });
            // Every member the schema names reads the same as in zod's stripped copy.
            const got = (result as { data: Record<string, unknown> }).data;
            for (const [key, value] of Object.entries(zod.data)) {
              // flags: the replay reads its two members only (and copies them alone).
              if (key === 'flags') {
                const flags = value as Record<string, unknown>;
                const gotFlags = got.flags as Record<string, unknown>;
                for (const name of Object.keys(flags)) expect(gotFlags[name]).toBe(flags[name]);
              } else expect(got[key]).toEqual(value);
            }
          } else {
            const issue = zod.error.issues[0]!;
            expect(result).toBe(
              `${type} is malformed: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
            );
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('names an unknown type', () => {
    expect(checkStored('transfer-deleted', {})).toBe('unknown event type "transfer-deleted"');
  });
});
