import { describe, expect, it } from 'vitest';
import { type RejectionCode, rejectionCodes, refusalOf } from './errors.ts';

const rejection = (code: RejectionCode) => ({ code, detail: `why ${code}`, transfer_id: 'x' });

describe('rejections as refusals', () => {
  it('are conflicts with the current state when a later request may succeed', () => {
    expect(refusalOf(rejection('INSUFFICIENT_FUNDS'))).toMatchObject({
      kind: 'conflict',
      code: 'INSUFFICIENT_FUNDS',
      detail: 'why INSUFFICIENT_FUNDS',
    });
    expect(refusalOf(rejection('IDEMPOTENCY_CONFLICT')).kind).toBe('conflict');
  });

  it('are unprocessable otherwise, keeping the engine code, or the detail the caller gives', () => {
    for (const code of rejectionCodes.filter(
      (c) => c !== 'INSUFFICIENT_FUNDS' && c !== 'IDEMPOTENCY_CONFLICT',
    )) {
      expect(refusalOf(rejection(code)), code).toMatchObject({ kind: 'unprocessable', code });
    }
    expect(refusalOf(rejection('OVERFLOW'), 'too much').detail).toBe('too much');
  });
});
