import { describe, expect, it } from 'vitest';
import { oddPasswordReason, oddTextReason } from './text.ts';

describe('odd text', () => {
  it('accepts ordinary text in any script', () => {
    for (const value of ['Ada Lovelace', 'Zoë Saldaña', '李小龙', 'محمد', 'Ngũgĩ wa Thiong’o', '🦊 fox']) {
      expect(oddTextReason(value), value).toBeNull();
    }
  });

  it('refuses NUL and control characters; newlines only where multi-line', () => {
    expect(oddTextReason('a\u0000b')).toMatch(/control/);
    expect(oddTextReason('a\u0007b')).toMatch(/control/);
    expect(oddTextReason('line\nline')).toMatch(/control/);
    expect(oddTextReason('line\nline\ttab', { multiline: true })).toBeNull();
    expect(oddTextReason('a\u0000b', { multiline: true })).toMatch(/control/);
  });

  it('refuses lone surrogates but not paired ones', () => {
    expect(oddTextReason('\ud800')).toMatch(/surrogate/);
    expect(oddTextReason('x\udc00y')).toMatch(/surrogate/);
    expect(oddTextReason('\ud83e\udd8a')).toBeNull();
  });

  it('refuses bidirectional overrides', () => {
    expect(oddTextReason('invoice\u202Efdp.exe')).toMatch(/bidirectional/);
  });

  it('lets passwords hold anything printable, but no NUL or lone surrogate', () => {
    expect(oddPasswordReason('tab\tand\u202Eoverride ok')).toBeNull();
    expect(oddPasswordReason('nul\u0000')).toMatch(/NUL/);
    expect(oddPasswordReason('\udfff')).toMatch(/surrogate/);
  });
});
