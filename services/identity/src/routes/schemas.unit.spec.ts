import { describe, expect, it } from 'vitest';
import { httpUrl, name } from './schemas.ts';
import { profilePatch } from './users.ts';

// What identity stores as text: the kit's safe text (names, bio, location) and plain URLs.
const accepts = (schema: { safeParse(value: unknown): { success: boolean } }, value: string) =>
  schema.safeParse(value).success;
const bio = profilePatch.shape.bio;

describe('text identity stores', () => {
  it('accepts ordinary text in any script', () => {
    for (const value of ['Ada Lovelace', 'Zoë Saldaña', '李小龙', 'محمد', 'Ngũgĩ wa Thiong’o', '🦊 fox']) {
      expect(name.parse(value), value).toBe(value);
    }
    // Zero-width joiners stay: Persian and emoji sequences need them.
    expect(accepts(name, 'می\u200Cخواهم')).toBe(true);
    expect(accepts(name, '👩\u200D💻')).toBe(true);
  });

  it('refuses NUL and control characters; newlines only where multi-line', () => {
    expect(accepts(name, 'a\u0000b')).toBe(false);
    expect(accepts(name, 'a\u0007b')).toBe(false);
    expect(accepts(name, 'line\nline')).toBe(false);
    expect(accepts(bio, 'line\nline\ttab')).toBe(true);
    expect(accepts(bio, 'a\u0000b')).toBe(false);
  });

  it('refuses lone surrogates but not paired ones', () => {
    expect(accepts(name, '\ud800')).toBe(false);
    expect(accepts(name, 'x\udc00y')).toBe(false);
    expect(accepts(name, '\ud83e\udd8a')).toBe(true);
  });

  it('refuses bidirectional overrides and invisible marks, in names and URLs', () => {
    const refused = name.safeParse('invoice\u202Efdp.exe');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/reordering/);
    for (const mark of ['\u200B', '\u200E', '\u200F', '\uFEFF']) {
      expect(accepts(name, `Ada${mark}Lovelace`), JSON.stringify(mark)).toBe(false);
    }
    expect(accepts(httpUrl, 'https://example.test/a\u202Eb')).toBe(false);
    expect(accepts(httpUrl, 'https://example.test/avatar.png')).toBe(true);
  });
});
