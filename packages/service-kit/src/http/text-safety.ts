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

/** The path (`body.items[2].name`) of the first unstorable string, key included, or null. */
export function findUnstorableText(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path;
  // Bodies are bounded by the body limit; the depth bound only keeps a hostile nesting cheap.
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!isStorableText(key)) return `${path} (a key)`;
    const found = findUnstorableText(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}
