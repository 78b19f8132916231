import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../store/event-store.ts';
import { type CanonicalEvent, chainEvents, chainHash, eventBytes, GENESIS_HASH, hashEvent } from './chain.ts';

const event: CanonicalEvent = {
  id: '0190a6f8-6c3e-7000-8000-000000000001',
  stream: 'transfer-0190a6f8-6c3e-7000-8000-0000000000aa',
  revision: 0,
  type: 'pending-posted',
  data: { transfer_id: '0190a6f8-6c3e-7000-8000-0000000000aa', amount: 1250, at: '2025-01-01T00:00:00.000Z' },
  metadata: {},
  recorded_at: '2025-01-01T00:00:00.123Z',
};

function recorded(n: number): RecordedEvent {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    stream: `s-${n % 3}`,
    revision: Math.floor(n / 3),
    type: 'x',
    data: { n },
    metadata: {},
    recordedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)),
    checkpoint: `c${n}`,
  };
}

describe('hash chain', () => {
  it('hashes the eight canonical fields with the seq, after the previous hash', () => {
    const bytes = eventBytes(7, { ...event, extra: 'ignored' } as CanonicalEvent);
    expect(bytes.toString('utf8')).toBe(
      '{"data":{"amount":1250,"at":"2025-01-01T00:00:00.000Z","transfer_id":"0190a6f8-6c3e-7000-8000-0000000000aa"},' +
        '"id":"0190a6f8-6c3e-7000-8000-000000000001","metadata":{},"recorded_at":"2025-01-01T00:00:00.123Z",' +
        '"revision":0,"seq":7,"stream":"transfer-0190a6f8-6c3e-7000-8000-0000000000aa","type":"pending-posted"}',
    );
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(bytes).digest('hex');
    expect(hashEvent(GENESIS_HASH, 7, event)).toBe(expected);
    // Pinned (and checked with `sha256sum` over 32 zero bytes + the text above): any change to the
    // canonical form must be a visible, deliberate one.
    expect(expected).toBe('8ebfff1caa7566eb71fd9aec69db428eda308fae700c6cae03f5824de904c107');
  });

  it('changes with any field, the seq or the previous hash, but not with member order', () => {
    const base = hashEvent(GENESIS_HASH, 1, event);
    expect(hashEvent(GENESIS_HASH, 2, event)).not.toBe(base);
    expect(hashEvent('f'.repeat(64), 1, event)).not.toBe(base);
    expect(hashEvent(GENESIS_HASH, 1, { ...event, data: { ...event.data, amount: 1251 } })).not.toBe(base);
    expect(hashEvent(GENESIS_HASH, 1, { ...event, revision: 1 })).not.toBe(base);
    const reordered = {
      at: '2025-01-01T00:00:00.000Z',
      amount: 1250,
      transfer_id: '0190a6f8-6c3e-7000-8000-0000000000aa',
    };
    expect(hashEvent(GENESIS_HASH, 1, { ...event, data: reordered })).toBe(base);
  });

  it('refuses a malformed previous hash rather than hashing part of it', () => {
    expect(() => chainHash('zz'.repeat(32), Buffer.from('x'))).toThrow(/64 lowercase hex/);
    expect(() => chainHash('00', Buffer.from('x'))).toThrow(/64 lowercase hex/);
  });

  it('links events densely from the start or from a tip', () => {
    const events = [1, 2, 3, 4, 5].map(recorded);
    const all = chainEvents(undefined, events);
    expect(all.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]?.prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < all.length; i += 1) expect(all[i]?.prev_hash).toBe(all[i - 1]?.hash);
    expect(all.map((l) => l.checkpoint)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);

    const first = chainEvents(undefined, events.slice(0, 2));
    const rest = chainEvents(first.at(-1), events.slice(2));
    expect([...first, ...rest]).toEqual(all);
  });
});
