import { describe, expect, it } from 'vitest';
import { damaged, flac, tone } from '../testing/encoded-audio.ts';
import { silence, speechLike } from '../testing/fixtures.ts';
import { decodeFlac } from './flac.ts';

const LIMIT = 600;

describe('decoding FLAC', () => {
  it('decodes every sample, exactly (lossless)', async () => {
    const source = tone({ seconds: 2, sampleRate: 44_100 });
    const audio = await decodeFlac(await flac([source], 44_100), LIMIT);
    if (audio.kind !== 'audio') throw new Error(audio.detail);
    expect(audio.durationS).toBe(2);
    let max = 0;
    for (let i = 0; i < source.length; i++)
      max = Math.max(max, Math.abs(audio.channels[0]![i]! - source[i]!));
    expect(max).toBeLessThan(1 / 32_000);
  });

  it('decodes the tiny frames of digital silence to the last one', async () => {
    const source = speechLike({ seconds: 2 });
    source.fill(0, 16_000);
    for (const samples of [silence({ seconds: 1.5 }), source]) {
      const audio = await decodeFlac(await flac([samples]), LIMIT);
      expect(audio).toMatchObject({ kind: 'audio', durationS: samples.length / 16_000 });
    }
  });

  it('refuses a file cut off, cut between frames, or damaged', async () => {
    const bytes = await flac([speechLike({ seconds: 4 })]);
    expect(await decodeFlac(bytes.subarray(0, bytes.length - 100), LIMIT)).toMatchObject({
      reason: 'AUDIO_UNDECODABLE',
      detail: expect.stringContaining('cut-off'),
    });
    expect(await decodeFlac(damaged(bytes, bytes.length >> 1, 40), LIMIT)).toMatchObject({
      reason: 'AUDIO_UNDECODABLE',
    });
    const flipped = new Uint8Array(bytes);
    flipped[bytes.length >> 1]! ^= 0x10;
    expect(await decodeFlac(flipped, LIMIT)).toMatchObject({ reason: 'AUDIO_UNDECODABLE' });
    expect(await decodeFlac(damaged(bytes, 0, 4), LIMIT)).toMatchObject({ detail: 'FLAC: no fLaC marker' });
    // Whole frames, the last ones missing: STREAMINFO says how many samples there should be.
    const frameStarts = [
      ...Buffer.from(bytes)
        .toString('latin1')
        .matchAll(/\xff\xf8/g),
    ].map((m) => m.index);
    const clean = bytes.subarray(0, frameStarts.at(-1));
    expect(await decodeFlac(clean, LIMIT)).toMatchObject({
      reason: 'AUDIO_UNDECODABLE',
      detail: expect.stringMatching(/of 64000 samples/),
    });
  });

  it('takes an ID3v1 tag after the last frame', async () => {
    const bytes = await flac([speechLike({ seconds: 2 })]);
    const tag = Buffer.alloc(128);
    tag.write('TAG');
    expect((await decodeFlac(Buffer.concat([bytes, tag]), LIMIT)).kind).toBe('audio');
  });

  it('refuses a stream longer than the limit by STREAMINFO, before decoding it', async () => {
    expect(await decodeFlac(await flac([speechLike({ seconds: 6 })]), 5)).toMatchObject({
      kind: 'too-long',
      detail: expect.stringContaining('STREAMINFO'),
    });
  });
});
