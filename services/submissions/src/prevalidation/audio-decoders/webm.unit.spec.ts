import { BufferTarget, EncodedAudioPacketSource, EncodedPacket, MkvOutputFormat, Output } from 'mediabunny';
import { describe, expect, it } from 'vitest';
import { damaged, rms, tone, webmOpus } from '../testing/encoded-audio.ts';
import { speechLike } from '../testing/fixtures.ts';
import { checkStructure, decodeWebm } from './webm.ts';

const LIMIT = 600;
const speech = (seconds: number) => [speechLike({ seconds, sampleRate: 48_000 })];

describe('decoding WebM', () => {
  it('decodes Opus written live, as MediaRecorder writes it, and written whole', async () => {
    for (const live of [true, false]) {
      const audio = await decodeWebm(
        await webmOpus([tone({ seconds: 2, sampleRate: 48_000 })], { live }),
        LIMIT,
      );
      expect(audio, `live ${live}`).toMatchObject({ kind: 'audio', sampleRate: 48_000 });
      if (audio.kind !== 'audio') return;
      expect(audio.durationS).toBeCloseTo(2 - 312 / 48_000, 3);
      expect(rms(audio.channels[0]!)).toBeGreaterThan(0.2);
    }
  });

  it('decodes Opus encoded from 16 kHz at 48 kHz', async () => {
    const bytes = await webmOpus([tone({ seconds: 2, sampleRate: 16_000 })], { sampleRate: 16_000 });
    expect(await decodeWebm(bytes, LIMIT)).toMatchObject({ kind: 'audio', sampleRate: 48_000 });
  });

  it('refuses a file cut off inside an element, or with damaged elements', async () => {
    for (const live of [true, false]) {
      const bytes = await webmOpus(speech(4), { live });
      expect(checkStructure(bytes)).toBeNull();
      for (const cut of [0.3, 0.6, 0.95]) {
        const part = bytes.subarray(0, Math.floor(bytes.length * cut));
        expect(await decodeWebm(part, LIMIT), `live ${live}, cut at ${cut}`).toMatchObject({
          reason: 'AUDIO_UNDECODABLE',
        });
      }
      expect(await decodeWebm(damaged(bytes, bytes.length >> 1), LIMIT)).toMatchObject({
        reason: 'AUDIO_UNDECODABLE',
      });
      expect(await decodeWebm(damaged(bytes, 0, 8), LIMIT)).toMatchObject({ reason: 'AUDIO_UNDECODABLE' });
    }
  });

  it('refuses a file written whole that holds less than its stated duration', async () => {
    const bytes = await webmOpus(speech(4), { live: false });
    // Drop the last cluster cleanly: the structure is whole, the audio short of the Duration.
    const clusters = offsetsOf(bytes, [0x1f, 0x43, 0xb6, 0x75]);
    expect(clusters.length).toBeGreaterThan(1);
    const shortened = new Uint8Array(bytes.subarray(0, clusters.at(-1)));
    // The Segment has a size: shrink it to match, as a tool rewriting the file would.
    const audio = await decodeWebm(withSegmentSize(shortened), LIMIT);
    expect(audio).toMatchObject({ reason: 'AUDIO_UNDECODABLE', detail: expect.stringContaining('stated') });
  });

  it('answers AUDIO_FORMAT_UNSUPPORTED for a track of another codec', async () => {
    const output = new Output({ format: new MkvOutputFormat(), target: new BufferTarget() });
    const source = new EncodedAudioPacketSource('pcm-s16');
    output.addAudioTrack(source);
    await output.start();
    const config = { decoderConfig: { codec: 'pcm-s16', numberOfChannels: 1, sampleRate: 16_000 } };
    for (let i = 0; i < 10; i++)
      await source.add(new EncodedPacket(new Uint8Array(640), 'key', i * 0.02, 0.02), i ? undefined : config);
    source.close();
    await output.finalize();
    expect(await decodeWebm(new Uint8Array(output.target.buffer!), LIMIT)).toMatchObject({
      reason: 'AUDIO_FORMAT_UNSUPPORTED',
      detail: expect.stringContaining('pcm-s16'),
    });
  });

  it('stops decoding past the limit', async () => {
    expect(await decodeWebm(await webmOpus(speech(8)), 3)).toMatchObject({ kind: 'too-long', limitS: 3 });
  });
});

/** The bytes with the Segment's size rewritten to what follows it (same width of EBML integer). */
function withSegmentSize(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  const sizeStart = Buffer.from(out).indexOf(Buffer.from([0x18, 0x53, 0x80, 0x67])) + 4;
  const width = Math.clz32(out[sizeStart]!) - 23;
  let size = out.length - sizeStart - width;
  for (let i = width - 1; i >= 0; i--, size = Math.floor(size / 256)) out[sizeStart + i] = size % 256;
  out[sizeStart]! |= 0x80 >> (width - 1);
  return out;
}

/** Where the byte sequence occurs in `bytes`. */
function offsetsOf(bytes: Uint8Array, sequence: number[]): number[] {
  const offsets: number[] = [];
  const haystack = Buffer.from(bytes);
  for (
    let at = haystack.indexOf(Buffer.from(sequence));
    at >= 0;
    at = haystack.indexOf(Buffer.from(sequence), at + 1)
  )
    offsets.push(at);
  return offsets;
}
