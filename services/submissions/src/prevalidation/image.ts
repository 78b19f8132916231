import sharp from 'sharp';
import { type ImageReason, orderReasons } from './reasons.ts';

/** A grayscale raster, one byte per pixel, row after row. */
export interface GrayRaster {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * An image as the checks see it: its size as displayed (EXIF orientation applied), and a
 * grayscale copy downscaled to at most MEASURE_MAX_SIDE on its long side for the measures.
 */
export interface DecodedImage {
  kind: 'image';
  format: string;
  width: number;
  height: number;
  gray: GrayRaster;
}

export interface UndecodableImage {
  kind: 'undecodable';
  reason: Extract<ImageReason, 'IMAGE_UNDECODABLE'>;
  /** For logs, not contributors. */
  detail: string;
}

export type ImageDecoding = DecodedImage | UndecodableImage;

/**
 * 1024 px: the measures judge the image at the size a reviewer or a model looks at it. Sharpness
 * is judged at that scale (blur that a downscale to 1024 px hides is not refused); it also bounds
 * the raster at 1 MB, whatever the upload.
 */
export const MEASURE_MAX_SIDE = 1024;
/** Photo formats; SVG (a document, not a photo) and the rest of what libvips reads are refused. */
export const acceptedImageFormats: readonly string[] = ['jpeg', 'png', 'webp', 'heif', 'gif', 'tiff'];
/** sharp's own default (0x3FFF squared, 268 MP): above any camera, below a decompression bomb. */
const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

/**
 * Decodes an uploaded image with sharp (libvips): its displayed size, and the grayscale measure
 * raster (alpha flattened onto white, first frame of an animation). Truncated or corrupt pixel
 * data fails as `IMAGE_UNDECODABLE` (`failOn: 'error'`); mere decoder warnings, which some
 * phone cameras' JPEGs raise (extra bytes after the image), do not.
 */
export async function decodeImage(bytes: Uint8Array): Promise<ImageDecoding> {
  try {
    const image = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, autoOrient: true });
    const metadata = await image.metadata();
    if (!acceptedImageFormats.includes(metadata.format)) {
      return { kind: 'undecodable', reason: 'IMAGE_UNDECODABLE', detail: `format ${metadata.format}` };
    }
    const { data, info } = await image
      .flatten({ background: '#ffffff' })
      .grayscale()
      .resize({
        width: MEASURE_MAX_SIDE,
        height: MEASURE_MAX_SIDE,
        fit: 'inside',
        withoutEnlargement: true,
      })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const gray = new Uint8Array(info.width * info.height);
    for (let i = 0, j = 0; i < gray.length; i++, j += info.channels) gray[i] = data[j]!;
    return {
      kind: 'image',
      format: metadata.format,
      width: metadata.autoOrient.width,
      height: metadata.autoOrient.height,
      gray: { width: info.width, height: info.height, data: gray },
    };
  } catch (error) {
    return { kind: 'undecodable', reason: 'IMAGE_UNDECODABLE', detail: (error as Error).message };
  }
}

/**
 * Sharpness: the variance of the Laplacian (4-neighbour kernel [0 1 0; 1 -4 1; 0 1 0]) over the
 * inner pixels of the raster, on the 0-255 scale (Pech-Pacheco et al., 2000). Edges and texture
 * give a strong second derivative; blur, which removes high frequencies, flattens it.
 */
export function laplacianVariance(gray: GrayRaster): number {
  const { width, height, data } = gray;
  if (width < 3 || height < 3) return 0;
  let sum = 0;
  let squares = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * width;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      const value = data[i - width]! + data[i + width]! + data[i - 1]! + data[i + 1]! - 4 * data[i]!;
      sum += value;
      squares += value * value;
    }
  }
  const count = (width - 2) * (height - 2);
  const mean = sum / count;
  return squares / count - mean * mean;
}

/**
 * 100 (on 0-255 gray): the customary cut-off for the variance of the Laplacian, and where the
 * measure falls when a Gaussian blur of about 1.5-2 px (a missed focus, camera shake) has passed
 * over the image. Measured: the detailed fixture scores ~6,000, ~580 blurred with sigma 1, ~70
 * with sigma 2, ~10 with sigma 3; a real 500 px photo scores ~800, ~115 with sigma 1, ~18 with
 * sigma 2. Sensor noise adds 20 times its variance, which is why the cut-off is not lower. A
 * plain, evenly lit surface also scores low: a photo of a blank wall is refused as blurry.
 */
export const BLUR_MIN_LAPLACIAN_VARIANCE = 100;

export interface ImageRequirements {
  /** The smallest accepted size, compared regardless of orientation (a portrait photo of a landscape requirement passes). */
  minWidth: number;
  minHeight: number;
}

/** Why an image fails pre-validation, in the canonical order; empty when it passes. */
export function checkImage(image: ImageDecoding, requirements: ImageRequirements): ImageReason[] {
  if (image.kind === 'undecodable') return [image.reason];
  const reasons: ImageReason[] = [];
  const [short, long] = [Math.min(image.width, image.height), Math.max(image.width, image.height)];
  const [minShort, minLong] = [
    Math.min(requirements.minWidth, requirements.minHeight),
    Math.max(requirements.minWidth, requirements.minHeight),
  ];
  if (short < minShort || long < minLong) reasons.push('IMAGE_TOO_SMALL');
  if (laplacianVariance(image.gray) < BLUR_MIN_LAPLACIAN_VARIANCE) reasons.push('IMAGE_BLURRY');
  return orderReasons(reasons);
}

/*
 * Perceptual hash: the DCT hash (pHash) as Python's `imagehash.phash` computes it. The measure
 * raster is averaged down to 32x32 cells (area averaging, so resizing the original changes almost
 * nothing), the 2-D DCT-II is taken, and of its 8x8 lowest frequencies each coefficient gives one
 * bit: 1 when above their median. Low frequencies carry the layout of the image, which survives
 * resizing, JPEG recompression, mild colour or contrast changes; 64 bits are 16 hex digits, row by
 * row (vertical frequency, then horizontal), most significant bit first.
 */

const HASH_INPUT = 32;
const HASH_SIDE = 8;
/** cos((2x + 1) u pi / 64) for u < 8, x < 32. */
const dctCosines = Array.from({ length: HASH_SIDE }, (_, u) =>
  Float64Array.from({ length: HASH_INPUT }, (_, x) =>
    Math.cos(((2 * x + 1) * u * Math.PI) / (2 * HASH_INPUT)),
  ),
);

/** The 64-bit pHash of the image, as 16 lowercase hex digits. */
export function perceptualHash(image: DecodedImage | GrayRaster): string {
  const gray = 'gray' in image ? image.gray : image;
  const cells = areaAverage(gray, HASH_INPUT);
  // Rows first: rows[y][u] = sum over x of cells[y][x] cos_u(x); then columns.
  const rows = new Float64Array(HASH_INPUT * HASH_SIDE);
  for (let y = 0; y < HASH_INPUT; y++) {
    for (let u = 0; u < HASH_SIDE; u++) {
      const cos = dctCosines[u]!;
      let sum = 0;
      for (let x = 0; x < HASH_INPUT; x++) sum += cells[y * HASH_INPUT + x]! * cos[x]!;
      rows[y * HASH_SIDE + u] = sum;
    }
  }
  const coefficients = new Float64Array(HASH_SIDE * HASH_SIDE);
  for (let v = 0; v < HASH_SIDE; v++) {
    const cos = dctCosines[v]!;
    for (let u = 0; u < HASH_SIDE; u++) {
      let sum = 0;
      for (let y = 0; y < HASH_INPUT; y++) sum += rows[y * HASH_SIDE + u]! * cos[y]!;
      coefficients[v * HASH_SIDE + u] = sum;
    }
  }
  const sorted = coefficients.slice().sort();
  const median = (sorted[31]! + sorted[32]!) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let value = 0;
    for (let bit = 0; bit < 4; bit++)
      value = (value << 1) | (coefficients[nibble * 4 + bit]! > median ? 1 : 0);
    hex += value.toString(16);
  }
  return hex;
}

/** The raster averaged into side x side cells (each cell the mean of the pixels it covers). */
function areaAverage(gray: GrayRaster, side: number): Float64Array {
  const { width, height, data } = gray;
  const cells = new Float64Array(side * side);
  if (width === 0 || height === 0) return cells;
  for (let cy = 0; cy < side; cy++) {
    const y0 = Math.floor((cy * height) / side);
    const y1 = Math.max(y0 + 1, Math.floor(((cy + 1) * height) / side));
    for (let cx = 0; cx < side; cx++) {
      const x0 = Math.floor((cx * width) / side);
      const x1 = Math.max(x0 + 1, Math.floor(((cx + 1) * width) / side));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += data[y * width + x]!;
      cells[cy * side + cx] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return cells;
}

const popcount = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];
const hashPattern = /^[0-9a-f]{16}$/;

/** How many of the 64 bits differ between two hashes from `perceptualHash`. */
export function hammingDistance(a: string, b: string): number {
  if (!hashPattern.test(a) || !hashPattern.test(b)) throw new TypeError('expected 16 lowercase hex digits');
  let distance = 0;
  for (let i = 0; i < 16; i++) distance += popcount[parseInt(a[i]!, 16) ^ parseInt(b[i]!, 16)]!;
  return distance;
}

/**
 * 10 of 64 bits. Copies of one image (downscaled to a quarter, recompressed as JPEG down to
 * quality 15) differ by 0-2 bits in the fixtures, synthetic scenes of one family 18-30 bits.
 * Independent random hashes would come within 10 bits once in 10^8 pairs; photos are not random
 * (sky above, ground below), so real unrelated pairs come closer more often, but rarely within 10.
 */
export const NEAR_DUPLICATE_MAX_DISTANCE = 10;

export function isNearDuplicate(a: string, b: string, maxDistance = NEAR_DUPLICATE_MAX_DISTANCE): boolean {
  return hammingDistance(a, b) <= maxDistance;
}
