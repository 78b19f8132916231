/**
 * Text a person writes is checked by the kit (`oddTextReason`, `safeText`). A password is not
 * text to show anyone: it may hold any printable character (a tab, a bidi mark), but never NUL
 * (Postgres refuses it) nor a lone UTF-16 surrogate (it cannot be encoded).
 */
const LONE_SURROGATE = /\p{Cs}/u;

export function oddPasswordReason(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate';
  if (value.includes('\u0000')) return 'contains a NUL character';
  return null;
}
