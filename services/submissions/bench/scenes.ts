// Synthetic photos for the near-copy bench: hashes of pictures with the structure real ones share
// (a bright sky over darker ground, a face-like blob on a plain background, a page of text lines),
// so that, unlike uniform random hashes, many photos agree on their low-frequency bits and so on
// some chunks' values. Not real photos: a stand-in that is skewed the way real ones are.
import type { GrayRaster } from '../src/prevalidation/image.ts';
import { random } from '../src/prevalidation/testing/fixtures.ts';

const SIDE = 64;

/** A small deterministic generator (mulberry32), so a run can be repeated. */
export const seeded = random;

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** One picture: 70 % landscapes, 20 % portraits, 10 % documents, each with noise and a few shapes. */
export function scene(random: () => number): GrayRaster {
  const data = new Uint8Array(SIDE * SIDE);
  const kind = random();
  const between = (lo: number, hi: number) => lo + (hi - lo) * random();
  if (kind < 0.7) {
    const horizon = between(0.25, 0.75) * SIDE;
    const tilt = between(-0.3, 0.3);
    const sky = between(150, 240);
    const skySlope = between(-1, 0.5);
    const ground = between(40, 140);
    const texture = between(5, 30);
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const edge = horizon + tilt * (x - SIDE / 2);
        data[y * SIDE + x] = clamp(
          y < edge ? sky + skySlope * y : ground + texture * Math.sin(x * 0.7 + y * 1.3) * random(),
        );
      }
    }
  } else if (kind < 0.9) {
    const background = between(30, 220);
    const face = between(90, 230);
    const cx = between(0.35, 0.65) * SIDE;
    const cy = between(0.35, 0.6) * SIDE;
    const rx = between(0.15, 0.3) * SIDE;
    const ry = rx * between(1.1, 1.5);
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
        data[y * SIDE + x] = clamp(inside ? face : background + (y - SIDE / 2) * 0.5);
      }
    }
  } else {
    const paper = between(200, 250);
    const ink = between(10, 80);
    const margin = Math.floor(between(4, 12));
    const spacing = Math.floor(between(3, 6));
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const line = y >= margin && y < SIDE - margin && y % spacing === 0;
        const text = line && x >= margin && x < SIDE - margin && random() < 0.7;
        data[y * SIDE + x] = clamp(text ? ink : paper);
      }
    }
  }
  // A few shapes on top, and sensor noise.
  const shapes = Math.floor(random() * 4);
  for (let s = 0; s < shapes; s++) {
    const x0 = Math.floor(between(0, SIDE - 8));
    const y0 = Math.floor(between(0, SIDE - 8));
    const w = Math.floor(between(4, 24));
    const h = Math.floor(between(4, 24));
    const shade = between(0, 255);
    for (let y = y0; y < Math.min(SIDE, y0 + h); y++)
      for (let x = x0; x < Math.min(SIDE, x0 + w); x++) data[y * SIDE + x] = clamp(shade);
  }
  for (let i = 0; i < data.length; i++) data[i] = clamp(data[i]! + (random() - 0.5) * 12);
  return { width: SIDE, height: SIDE, data };
}
