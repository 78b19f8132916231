import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TransferIndex, TransferState } from './transfer-index.ts';

describe('TransferIndex', () => {
  it('keeps the state and the stream revision of many transfers, through its growth', () => {
    const index = new TransferIndex();
    const ids = Array.from({ length: 5_000 }, () => randomUUID());
    ids.forEach((id, i) => {
      index.setState(id, i % 2 === 0 ? TransferState.posted : TransferState.pending);
      if (i % 3 === 0) expect(index.raiseRevision(id, i % 5)).toBeUndefined();
    });
    expect(index.size).toBe(5_000);
    ids.forEach((id, i) => {
      expect(index.state(id)).toBe(i % 2 === 0 ? TransferState.posted : TransferState.pending);
      expect(index.revision(id)).toBe(i % 3 === 0 ? i % 5 : undefined);
    });
    expect(index.state(randomUUID())).toBe(TransferState.none);
    expect(index.revision(randomUUID())).toBeUndefined();
    // Compact: well under the hundred-odd bytes a Map of id strings costs per transfer.
    expect(index.bytes / 5_000).toBeLessThan(60);
  });

  it('tells ids apart by every digit, and keeps ids that are not lowercase UUIDs exactly', () => {
    const index = new TransferIndex();
    const id = '0190a6f8-6c3e-7000-8000-0000000000aa';
    const near = '0190a6f8-6c3e-7000-8000-0000000000ab';
    index.setState(id, TransferState.voided);
    expect(index.state(near)).toBe(TransferState.none);
    const upper = id.toUpperCase();
    index.setState(upper, TransferState.expired);
    index.raiseRevision('not-a-uuid', 3);
    expect(index.state(id)).toBe(TransferState.voided);
    expect(index.state(upper)).toBe(TransferState.expired);
    expect(index.revision('not-a-uuid')).toBe(3);
    expect(index.revision(upper)).toBeUndefined();
    expect(index.size).toBe(3);
  });

  it('keeps the highest revision and returns the one before, a revision below zero counting as seen', () => {
    const index = new TransferIndex();
    const id = randomUUID();
    expect(index.raiseRevision(id, -5)).toBeUndefined();
    expect(index.revision(id)).toBe(-1);
    expect(index.raiseRevision(id, 1)).toBe(-1);
    expect(index.raiseRevision(id, 0)).toBe(1);
    expect(index.revision(id)).toBe(1);
  });
});
