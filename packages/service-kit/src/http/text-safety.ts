/**
 * Strings Postgres cannot store: a NUL character (text columns refuse it) and a lone UTF-16
 * surrogate (not valid UTF-8). Refused at the edge for every route, so that no handler ever passes
 * one to the database and answers 500.
 */
// eslint-disable-next-line no-control-regex -- finding the NUL is the point
const UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: string): boolean {
  return !UNSAFE.test(value);
}

/**
 * The path (`body.items[2].name`) of the first unstorable string, key included, or null. Iterative,
 * with no depth limit: a string nested deeper than any bound would still reach a jsonb column, and
 * a hostile nesting costs no stack (the body limit bounds the work).
 */
export function findUnstorableText(value: unknown, path: string): string | null {
  const pending: Array<[unknown, string]> = [[value, path]];
  while (pending.length > 0) {
    const [item, at] = pending.pop()!;
    if (typeof item === 'string') {
      if (!isStorableText(item)) return at;
      continue;
    }
    if (item === null || typeof item !== 'object' || ArrayBuffer.isView(item)) continue;
    // Pushed in reverse, so the first bad string in document order is the one named.
    const entries: Array<[unknown, string]> = Array.isArray(item)
      ? item.map((child, i) => [child, `${at}[${i}]`])
      : Object.entries(item).map(([key, child]) => [child, `${at}.${key}`]);
    if (!Array.isArray(item)) {
      for (const key of Object.keys(item)) if (!isStorableText(key)) return `${at} (a key)`;
    }
    for (let i = entries.length - 1; i >= 0; i--) pending.push(entries[i]!);
  }
  return null;
}
