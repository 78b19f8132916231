/**
 * Text we store must be text: no NUL or other control characters (a tab or newline only where a
 * field is multi-line), no lone UTF-16 surrogates (they cannot be encoded, and Postgres refuses
 * NUL), nothing invisible that reorders what a reader sees.
 */
const CONTROL_SINGLE_LINE = /[\p{Cc}]/u;
const CONTROL_MULTI_LINE = /(?![\t\n\r])\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;
const BIDI_OVERRIDES = /[\u202A-\u202E\u2066-\u2069]/u;

export function oddTextReason(value: string, options: { multiline?: boolean } = {}): string | null {
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate';
  if ((options.multiline ? CONTROL_MULTI_LINE : CONTROL_SINGLE_LINE).test(value)) {
    return 'contains control characters';
  }
  if (BIDI_OVERRIDES.test(value)) return 'contains bidirectional override characters';
  return null;
}

/** Passwords may hold any printable character, but never NUL or a lone surrogate. */
export function oddPasswordReason(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate';
  if (value.includes('\u0000')) return 'contains a NUL character';
  return null;
}
