/**
 * Path patterns as the gateway routes them: segments that are literals or parameters. A route
 * prefix names its parameters `:name` (`/api/v1/companies/:id/credits`); an OpenAPI path names
 * them `{name}` (`/api/v1/companies/{id}/credits`); an upload pattern may write `*` for one segment.
 * The router (find-my-way) prefers, segment by segment, a literal to a parameter and a parameter to
 * the end of a shorter prefix; {@link bestPrefix} applies the same order, so the documentation and
 * the size limits agree with where requests really go.
 */

/** True when a segment is a parameter in any of the three spellings. */
export function isParamSegment(segment: string): boolean {
  return segment.startsWith(':') || segment === '*' || (segment.startsWith('{') && segment.endsWith('}'));
}

export function segmentsOf(path: string): string[] {
  return path.split('/').slice(1);
}

/**
 * True when `path` (a concrete path or an OpenAPI/route pattern) is `prefix` or lies under it, on
 * segment boundaries. A parameter segment of the prefix matches any one non-empty segment; a
 * literal segment of the prefix matches only itself (not a parameter of the path, whose values are
 * mostly other strings).
 */
export function matchesPrefix(path: string, prefix: string): boolean {
  const want = segmentsOf(prefix);
  const have = segmentsOf(path);
  // `/auth/` lies under `/auth` as the router sees it; a prefix never ends with a slash.
  if (have.length < want.length) return false;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    if (isParamSegment(w)) {
      if (h === '') return false;
    } else if (w !== h) {
      return false;
    }
  }
  return true;
}

/**
 * Orders two prefixes that both match a path the way the router would choose between them:
 * positive when `a` wins. Literal beats parameter at the first segment where they differ; when one
 * is a leading part of the other, the longer one wins.
 */
export function comparePrefixes(a: string, b: string): number {
  const sa = segmentsOf(a);
  const sb = segmentsOf(b);
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const ra = isParamSegment(sa[i]!) ? 1 : 2;
    const rb = isParamSegment(sb[i]!) ? 1 : 2;
    if (ra !== rb) return ra - rb;
  }
  return sa.length - sb.length;
}

/** The prefix the router sends `path` to, among `candidates`, or undefined when none matches. */
export function bestPrefix<T extends { readonly prefix: string }>(
  path: string,
  candidates: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const candidate of candidates) {
    if (!matchesPrefix(path, candidate.prefix)) continue;
    if (!best || comparePrefixes(candidate.prefix, best.prefix) > 0) best = candidate;
  }
  return best;
}

/** True when two patterns name the same routes (parameters compared by position, not by name). */
export function samePattern(a: string, b: string): boolean {
  const sa = segmentsOf(a);
  const sb = segmentsOf(b);
  return (
    sa.length === sb.length &&
    sa.every((s, i) => {
      const t = sb[i]!;
      return isParamSegment(s) ? isParamSegment(t) : s === t;
    })
  );
}

/** A pattern in the router's syntax: every parameter segment becomes `:p<position>`. */
export function toRouterPattern(pattern: string): string {
  return `/${segmentsOf(pattern)
    .map((s, i) => (isParamSegment(s) ? (s.startsWith(':') ? s : `:p${i}`) : s))
    .join('/')}`;
}
