/**
 * Benchmark of the pre-validation checks, one input per kind as the issue sets them: a 60 s WAV
 * (44.1 kHz, 16-bit, mono), a 12-megapixel JPEG (4000x3000, generated with sharp) and a
 * 5,000-character text; and the decoding of the same 60 s of speech in each compressed format
 * browsers and phones upload (Ogg Opus and WebM Opus at 32 kbit/s, MP3 at 64 kbit/s, Ogg Vorbis,
 * FLAC; see testing/encoded-audio.ts). For each step: the time per run (median and best of RUNS, after one
 * warm-up run), and the memory one more run adds from a collected heap: rss, V8 heap and array
 * buffers right after it (garbage included), and what it still holds after a GC (its result).
 *
 *   pnpm --filter @tessera/submissions bench:prevalidation        (RUNS=5)
 *
 * Inputs are generated before timing starts and are not counted.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import sharp from 'sharp';
import { checkAudio, decodeAudio, measureSilence } from '../src/prevalidation/audio.ts';
import { checkImage, decodeImage, laplacianVariance, perceptualHash } from '../src/prevalidation/image.ts';
import { type EncodingName, encodings } from '../src/prevalidation/testing/encoded-audio.ts';
import { images, longText, speechLike, wav } from '../src/prevalidation/testing/fixtures.ts';
import { checkText, measureText, normalizedTextHash } from '../src/prevalidation/text.ts';

const RUNS = Math.max(1, Number(process.env.RUNS ?? 5));

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
/** A full GC, twice, with a pause between so array buffers freed by the sweeper are gone too. */
async function gc(): Promise<void> {
  collect();
  await new Promise((resolve) => setTimeout(resolve, 50));
  collect();
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1).padStart(6)} MB`;
const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;

interface Step {
  name: string;
  run: () => unknown;
}

/** Times each step RUNS times (after a warm-up), then measures the memory of one more run. */
async function bench(kind: string, steps: Step[]): Promise<void> {
  console.log(`\n${kind}`);
  for (const step of steps) {
    await step.run();
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      await step.run();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    await gc();
    const before = process.memoryUsage();
    let kept: unknown = await step.run();
    const after = process.memoryUsage();
    await gc();
    const retained = process.memoryUsage();
    const buffers = (usage: NodeJS.MemoryUsage) => usage.heapUsed + usage.arrayBuffers;
    console.log(
      `  ${step.name.padEnd(34)} median ${ms(times[Math.floor(times.length / 2)]!)}  best ${ms(times[0]!)}` +
        `   +rss ${mb(after.rss - before.rss)}  +heap ${mb(after.heapUsed - before.heapUsed)}` +
        `  +arrayBuffers ${mb(after.arrayBuffers - before.arrayBuffers)}` +
        `  retained ${mb(buffers(retained) - buffers(before))}`,
    );
    // Let go of the result before the next step measures.
    kept = undefined;
    void kept;
  }
}

console.log(
  `pre-validation bench: ${RUNS} runs per step, ${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
);

// Inputs.
const wavBytes = wav([speechLike({ seconds: 60, sampleRate: 44_100 })], 44_100, '16');
const jpegBytes = await sharp(await images.sharp(4000, 3000))
  .jpeg({ quality: 90 })
  .toBuffer();
const text = longText(5_000);
console.log(
  `inputs: WAV 60 s 44.1 kHz 16-bit mono ${mb(wavBytes.length)}; JPEG 4000x3000 ${mb(jpegBytes.length)}; text ${text.length} chars`,
);

// Audio.
const audio = await decodeAudio(wavBytes, 'audio/wav');
if (audio.kind !== 'audio') throw new Error(`WAV undecodable: ${audio.detail}`);
const audioLimits = { minDurationS: 5, maxDurationS: 120 };
await bench('audio (60 s WAV)', [
  { name: 'decodeAudio', run: () => decodeAudio(wavBytes, 'audio/wav') },
  { name: 'checkAudio (duration + silence)', run: () => checkAudio(audio, audioLimits) },
  {
    name: 'decode + check',
    run: async () => checkAudio(await decodeAudio(wavBytes, 'audio/wav'), audioLimits),
  },
]);
console.log(
  `  → ${JSON.stringify(checkAudio(audio, audioLimits))}, silent frames ${(measureSilence(audio).silentRatio * 100).toFixed(0)} %`,
);

// Audio in the compressed formats: the same 60 s of speech, encoded before timing.
const encoded = await Promise.all(
  (Object.keys(encodings) as EncodingName[]).map(async (name) => {
    const { contentType, sampleRate, encode } = encodings[name];
    return { name, contentType, bytes: await encode([speechLike({ seconds: 60, sampleRate })]) };
  }),
);
console.log(`\ninputs: ${encoded.map(({ name, bytes }) => `${name} ${mb(bytes.length).trim()}`).join('; ')}`);
await bench(
  'audio (60 s of speech per format)',
  encoded.map(({ name, contentType, bytes }) => ({
    name: `decodeAudio ${name}`,
    run: () => decodeAudio(bytes, contentType),
  })),
);
for (const { name, contentType, bytes } of encoded) {
  const decoded = await decodeAudio(bytes, contentType);
  console.log(
    `  → ${name}: ${decoded.kind === 'audio' ? `${decoded.durationS.toFixed(2)} s at ${decoded.sampleRate} Hz, ${decoded.channels.length} ch, ${JSON.stringify(checkAudio(decoded, audioLimits))}` : decoded.detail}`,
  );
}

// Image.
const image = await decodeImage(jpegBytes);
if (image.kind !== 'image') throw new Error(`JPEG undecodable: ${image.detail}`);
const imageLimits = { minWidth: 640, minHeight: 480 };
await bench('image (12 MP JPEG)', [
  { name: 'decodeImage (sharp → 1024 px gray)', run: () => decodeImage(jpegBytes) },
  { name: 'checkImage (size + Laplacian)', run: () => checkImage(image, imageLimits) },
  { name: 'perceptualHash', run: () => perceptualHash(image) },
  {
    name: 'decode + check + hash',
    run: async () => {
      const decoded = await decodeImage(jpegBytes);
      return decoded.kind === 'image' ? [checkImage(decoded, imageLimits), perceptualHash(decoded)] : decoded;
    },
  },
]);
console.log(
  `  → ${JSON.stringify(checkImage(image, imageLimits))}, Laplacian variance ${laplacianVariance(image.gray).toFixed(0)}, pHash ${perceptualHash(image)}`,
);

// Text.
await bench('text (5,000 chars)', [
  { name: 'checkText (gibberish + language)', run: () => checkText(text, { language: 'en' }) },
  { name: 'measureText (gibberish only)', run: () => measureText(text) },
  { name: 'normalizedTextHash', run: () => normalizedTextHash(text) },
]);
console.log(`  → ${JSON.stringify(checkText(text, { language: 'en' }))}`);
console.log(`\npeak rss ${mb(process.resourceUsage().maxRSS * 1024)}`);
