import { describe, expect, it } from 'vitest';
import { type CanonicalEvent, GENESIS_HASH, hashEvent } from './chain.ts';
import { ChainChecker } from './verify.ts';

// ChainChecker.link skips the hash's regex when it equals the digest recomputed: a malformed,
// altered or uncanonicalizable link must still be found, with the same findings as before.
const event = (n: number): CanonicalEvent => ({
  id: `e${n}`,
  stream: 's',
  revision: n,
  type: 't',
  data: { n },
  metadata: {},
  recorded_at: '2026-01-01T00:00:00.000Z',
});

function chain(count: number): { prev: string; hash: string }[] {
  let prev = GENESIS_HASH;
  return Array.from({ length: count }, (_, i) => {
    const hash = hashEvent(prev, i + 1, event(i + 1));
    const link = { prev, hash };
    prev = hash;
    return link;
  });
}

const checker = () => new ChainChecker({ keys: [], pinned: false, source: 'test' });

describe('ChainChecker.link', () => {
  it('passes a sound chain', () => {
    const c = checker();
    chain(5).forEach((l, i) => c.link(i + 1, event(i + 1), l.prev, l.hash));
    expect(c.links.count).toBe(0);
  });

  it('finds an altered event, a malformed hash, and the link after it', () => {
    const links = chain(4);
    const c = checker();
    c.link(1, event(1), links[0]!.prev, links[0]!.hash);
    c.link(2, { ...event(2), data: { n: 99 } }, links[1]!.prev, links[1]!.hash);
    c.link(3, event(3), links[2]!.prev, links[2]!.hash.toUpperCase());
    c.link(4, event(4), links[3]!.prev, links[3]!.hash);
    expect(c.links.count).toBe(3);
    const text = c.links.shown.join('\n');
    expect(text).toContain('seq 2 (t e2 in s at revision 2): hash does not match the event');
    expect(text).toContain('seq 3 (t e3 in s at revision 3): malformed hash');
    expect(text).toContain(
      'seq 4 (t e4 in s at revision 4): prev_hash is not the hash of the link before it',
    );
  });

  it('reports an uncanonicalizable event as such, or as a malformed hash when its hash is malformed', () => {
    const bad = { ...event(1), data: { s: '\ud800' } };
    const a = checker();
    a.link(1, bad, GENESIS_HASH, 'f'.repeat(64));
    expect(a.links.count).toBe(1);
    expect(a.links.shown.join('\n')).toContain('cannot be canonicalized');
    const b = checker();
    b.link(1, bad, GENESIS_HASH, 'not a hash');
    expect(b.links.count).toBe(1);
    expect(b.links.shown.join('\n')).toContain('malformed hash');
  });
});
