import { decider } from '@tessera/service-kit/testing';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BLUR_MIN_LAPLACIAN_VARIANCE,
  checkImage,
  type DecodedImage,
  decodeImage,
  hammingDistance,
  type ImageRequirements,
  isNearDuplicate,
  laplacianVariance,
  MEASURE_MAX_SIDE,
  NEAR_DUPLICATE_MAX_DISTANCE,
  perceptualHash,
} from './image.ts';
import { images } from './testing/fixtures.ts';

const vga: ImageRequirements = { minWidth: 640, minHeight: 480 };
const spec = decider(checkImage);

async function decoded(bytes: Uint8Array | Promise<Uint8Array>): Promise<DecodedImage> {
  const image = await decodeImage(await bytes);
  if (image.kind !== 'image') throw new Error(`undecodable: ${image.detail}`);
  return image;
}

let original: DecodedImage;
beforeAll(async () => {
  original = await decoded(images.sharp());
});

describe('decoding an image upload', () => {
  it('reads the size and a one-byte-per-pixel grayscale raster', () => {
    expect(original).toMatchObject({ kind: 'image', format: 'png', width: 640, height: 480 });
    expect(original.gray).toMatchObject({ width: 640, height: 480 });
    expect(original.gray.data).toHaveLength(640 * 480);
  });

  it(`downscales the raster of a large image to ${MEASURE_MAX_SIDE} px on its long side`, async () => {
    const large = sharp({
      create: {
        width: 1600,
        height: 1200,
        channels: 3,
        background: '#888',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    });
    const image = await decoded(large.jpeg().toBuffer());
    expect(image).toMatchObject({ format: 'jpeg', width: 1600, height: 1200 });
    expect(image.gray).toMatchObject({ width: 1024, height: 768 });
  });

  it('applies the EXIF orientation to the size', async () => {
    const rotated = await sharp(await images.sharpJpeg())
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const image = await decoded(rotated);
    expect(image).toMatchObject({ width: 480, height: 640 });
    expect(image.gray).toMatchObject({ width: 480, height: 640 });
  });

  it('flattens transparency onto white', async () => {
    const transparent = await sharp({
      create: { width: 40, height: 30, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const image = await decoded(transparent);
    expect(image.gray.data.every((value) => value === 255)).toBe(true);
  });

  it('reads WebP', async () => {
    const webp = await sharp(await images.sharp())
      .webp()
      .toBuffer();
    expect(await decoded(webp)).toMatchObject({ format: 'webp', width: 640, height: 480 });
  });

  it('reads a JPEG with stray bytes after its end, as some cameras write them', async () => {
    const jpeg = await images.sharpJpeg();
    expect(await decoded(Buffer.concat([jpeg, Buffer.alloc(64, 0x55)]))).toMatchObject({
      width: 640,
      height: 480,
    });
  });

  it('answers IMAGE_UNDECODABLE for a cut-off file, random bytes, nothing, and an SVG', async () => {
    for (const bad of [await images.truncated(), Buffer.alloc(4000, 9), Buffer.alloc(0), images.svg()]) {
      expect(await decodeImage(bad)).toMatchObject({ kind: 'undecodable', reason: 'IMAGE_UNDECODABLE' });
    }
  });
});

describe('checking an image', () => {
  it('passes a detailed photo of the required size, as PNG or JPEG', async () => {
    spec.given(original).when(vga).then([]);
    spec
      .given(await decoded(images.sharpJpeg()))
      .when(vga)
      .then([]);
  });

  it('compares sizes regardless of orientation', () => {
    spec.given(original).when({ minWidth: 480, minHeight: 640 }).then([]);
    spec.given(original).when({ minWidth: 641, minHeight: 480 }).then(['IMAGE_TOO_SMALL']);
  });

  it('refuses a thumbnail as IMAGE_TOO_SMALL', async () => {
    spec
      .given(await decoded(images.tiny()))
      .when(vga)
      .then(['IMAGE_TOO_SMALL']);
  });

  it('refuses a blurred photo as IMAGE_BLURRY', async () => {
    spec
      .given(await decoded(images.blurred(3)))
      .when(vga)
      .then(['IMAGE_BLURRY']);
    spec
      .given(await decoded(images.blurred(2)))
      .when(vga)
      .then(['IMAGE_BLURRY']);
  });

  it('passes a slightly soft photo (blur of 1 px)', async () => {
    spec
      .given(await decoded(images.blurred(1)))
      .when(vga)
      .then([]);
  });

  it('gives every reason that applies, in order', async () => {
    const blurredThumbnail = await sharp(await images.tiny())
      .blur(3)
      .png()
      .toBuffer();
    spec
      .given(await decoded(blurredThumbnail))
      .when(vga)
      .then(['IMAGE_TOO_SMALL', 'IMAGE_BLURRY']);
  });

  it('passes the decoder’s reason on for a file it could not read', () => {
    spec
      .given({ kind: 'undecodable', reason: 'IMAGE_UNDECODABLE', detail: 'x' })
      .when(vga)
      .then(['IMAGE_UNDECODABLE']);
  });
});

describe('the variance of the Laplacian', () => {
  it('is zero on a flat raster and on one too small to have inner pixels', () => {
    expect(laplacianVariance({ width: 50, height: 40, data: new Uint8Array(2000).fill(128) })).toBe(0);
    expect(laplacianVariance({ width: 2, height: 2, data: new Uint8Array([0, 255, 255, 0]) })).toBe(0);
  });

  it('falls through the threshold as the blur grows', async () => {
    const scores = [];
    for (const sigma of [1, 2, 3])
      scores.push(laplacianVariance((await decoded(images.blurred(sigma))).gray));
    expect(laplacianVariance(original.gray)).toBeGreaterThan(scores[0]!);
    expect(scores[0]).toBeGreaterThan(BLUR_MIN_LAPLACIAN_VARIANCE);
    expect(scores[1]).toBeLessThan(BLUR_MIN_LAPLACIAN_VARIANCE);
    expect(scores[2]).toBeLessThan(scores[1]!);
  });
});

describe('the perceptual hash', () => {
  it('is 16 hex digits, the same for the same image', async () => {
    const hash = perceptualHash(original);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(perceptualHash(await decoded(images.sharp()))).toBe(hash);
    expect(perceptualHash(original.gray)).toBe(hash);
  });

  it('finds resized and recompressed copies near duplicates', async () => {
    const hash = perceptualHash(original);
    const copies = [
      await images.resized(0.5),
      await images.resized(0.25),
      await images.recompressed(70),
      await images.recompressed(30),
      await images.blurred(2),
    ];
    for (const copy of copies) {
      const distance = hammingDistance(hash, perceptualHash(await decoded(copy)));
      expect(distance).toBeLessThanOrEqual(4);
      expect(isNearDuplicate(hash, perceptualHash(await decoded(copy)))).toBe(true);
    }
  });

  it('tells different images apart', async () => {
    const hash = perceptualHash(original);
    for (const seed of [2, 3, 4, 5, 6]) {
      const other = perceptualHash(await decoded(images.different(seed)));
      expect(hammingDistance(hash, other), `seed ${seed}`).toBeGreaterThan(NEAR_DUPLICATE_MAX_DISTANCE);
      expect(isNearDuplicate(hash, other)).toBe(false);
    }
  });

  it('counts differing bits, and refuses what is not a hash', () => {
    expect(hammingDistance('0123456789abcdef', '0123456789abcdef')).toBe(0);
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('0000000000000000', '8000000000000001')).toBe(2);
    expect(() => hammingDistance('abc', '0000000000000000')).toThrow(TypeError);
    expect(() => hammingDistance('000000000000000G', '0000000000000000')).toThrow(TypeError);
  });
});
