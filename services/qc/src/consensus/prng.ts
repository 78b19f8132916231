/**
 * A small seeded pseudo-random generator for simulations and tests, so a run can be repeated
 * exactly. Not for anything an adversary may predict: honeypot turns draw from the operating
 * system's source (`context.ts:cryptoRandom`).
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32 (Tommy Ettinger): a 32-bit state and one multiply-xorshift round per draw; a period of
 * 2^32, plenty for a simulation of a few thousand draws.
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream for another purpose, derived from a seed and a stream number. */
export function substream(seed: number, stream: number): Random {
  return mulberry32(Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77));
}

export function uniformBetween(random: Random, low: number, high: number): number {
  return low + (high - low) * random();
}

/** `count` distinct integers from 0 to size − 1 in random order (a partial Fisher–Yates shuffle). */
export function drawDistinct(random: Random, size: number, count: number): number[] {
  if (count > size) throw new RangeError(`cannot draw ${count} distinct of ${size}`);
  const pool = Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < count; i += 1) {
    const j = i + Math.floor(random() * (size - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}
