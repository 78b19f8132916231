import { describe, expect, it } from 'vitest';
import {
  checkImage,
  decodeImage,
  type DecodedImage,
  isNearDuplicate,
  perceptualHash,
} from '../../services/submissions/src/prevalidation/image.ts';
import { photo } from './work.ts';

// The journey's and the demo's generated photos must pass pre-validation as real photos would, and
// never be near copies of each other (a campaign of them would refuse some as duplicates).

describe('generated photos', () => {
  it('are PNGs that pass the image checks', async () => {
    const image = await decodeImage(await photo(7));
    expect(image).toMatchObject({ kind: 'image', format: 'png', width: 640, height: 480 });
    expect(checkImage(image, { minWidth: 640, minHeight: 480 })).toEqual([]);
  });

  // 60 PNGs made and decoded: 2.4 s on a quiet 2-core machine, past vitest's default 5 s when the
  // machine is busy (it failed so in a CI run beside a chaos run). Its time proves nothing.
  it('are never near copies of each other, in a campaign of 60', { timeout: 60_000 }, async () => {
    const hashes: string[] = [];
    for (let seed = 1; seed <= 60; seed++)
      hashes.push(perceptualHash((await decodeImage(await photo(seed))) as DecodedImage));
    const near = hashes.flatMap((a, i) => hashes.slice(i + 1).filter((b) => isNearDuplicate(a, b)));
    expect(near).toEqual([]);
  });

  it('are the same for the same seed, and differ otherwise', async () => {
    expect((await photo(3)).equals(await photo(3))).toBe(true);
    expect((await photo(3)).equals(await photo(4))).toBe(false);
  });
});
