import { describe, expect, it } from 'vitest';
import { oddPasswordReason } from './text.ts';

describe('odd passwords', () => {
  it('lets passwords hold anything printable, but no NUL or lone surrogate', () => {
    expect(oddPasswordReason('tab\tand\u202Eoverride ok')).toBeNull();
    expect(oddPasswordReason('nul\u0000')).toMatch(/NUL/);
    expect(oddPasswordReason('\udfff')).toMatch(/surrogate/);
  });
});
