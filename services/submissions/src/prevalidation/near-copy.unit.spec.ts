import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hammingDistance } from './image.ts';
import { chunkProbes, chunksOf } from './near-copy.ts';
import { flipBits } from './testing/hashes.ts';

describe("a photo hash's chunks and the probes for its near copies", () => {
  it('cuts a hash into four 16-bit chunks, most significant first', () => {
    expect(chunksOf('0123456789abcdef')).toEqual([0x0123, 0x4567, 0x89ab, 0xcdef]);
  });

  it('probes each chunk at every value within 2 bits of it, each once', () => {
    const probes = chunkProbes('0123456789abcdef');
    expect(probes.chunk).toHaveLength(4 * 137);
    for (const chunk of [0, 1, 2, 3]) {
      const values = probes.value.filter((_, i) => probes.chunk[i] === chunk);
      expect(new Set(values).size).toBe(137);
      const exact = chunksOf('0123456789abcdef')[chunk]!;
      for (const value of values) {
        let bits = 0;
        for (let x = value ^ exact; x; x &= x - 1) bits++;
        expect(bits).toBeLessThanOrEqual(2);
      }
    }
  });

  it('reaches every hash within 10 bits through some chunk (pigeonhole), wherever the bits differ', () => {
    for (let trial = 0; trial < 2_000; trial++) {
      const hash = randomBytes(8).toString('hex');
      const other = flipBits(hash, trial % 11);
      expect(hammingDistance(hash, other)).toBe(trial % 11);
      const probes = chunkProbes(hash);
      const mine = chunksOf(other);
      const reached = probes.chunk.some((chunk, i) => mine[chunk] === probes.value[i]);
      expect(reached, `${hash} / ${other}`).toBe(true);
    }
  });
});
