// Test support: perceptual hashes a given number of bits apart.
import { randomInt } from 'node:crypto';

/** `hash` (16 hex digits) with `bits` distinct bits, picked at random, flipped. */
export function flipBits(hash: string, bits: number): string {
  let value = BigInt(`0x${hash}`);
  const flipped = new Set<number>();
  while (flipped.size < bits) flipped.add(randomInt(64));
  for (const bit of flipped) value ^= 1n << BigInt(bit);
  return value.toString(16).padStart(16, '0');
}
