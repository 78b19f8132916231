import { describe, expect, it } from 'vitest';
import { damaged, mp3, rms, tone } from '../testing/encoded-audio.ts';
import { speechLike } from '../testing/fixtures.ts';
import { decodeMp3 } from './mp3.ts';

const LIMIT = 600;

describe('decoding MP3', () => {
  it('gives a mono file one channel (mpg123 puts out two) and a stereo file two', async () => {
    const left = tone({ seconds: 2, sampleRate: 44_100 });
    const mono = await decodeMp3(await mp3([left]), LIMIT);
    expect(mono).toMatchObject({ kind: 'audio', sampleRate: 44_100 });
    if (mono.kind === 'audio') expect(mono.channels).toHaveLength(1);
    const stereo = await decodeMp3(await mp3([left, left.map((v) => v * 0.5)]), LIMIT);
    if (stereo.kind !== 'audio') throw new Error(stereo.detail);
    expect(stereo.channels).toHaveLength(2);
    expect(rms(stereo.channels[1]!) / rms(stereo.channels[0]!)).toBeCloseTo(0.5, 1);
  });

  it('decodes each MPEG sample rate a phone or browser uses', async () => {
    for (const sampleRate of [8_000, 16_000, 22_050, 32_000, 48_000] as const) {
      const audio = await decodeMp3(await mp3([tone({ seconds: 2, sampleRate })], sampleRate, 32), LIMIT);
      expect(audio, `${sampleRate}`).toMatchObject({ kind: 'audio', sampleRate });
      if (audio.kind !== 'audio') continue;
      // Without a LAME header the encoder's delay and padding are decoded too: under 3 frames
      // (of 1152 samples in MPEG-1, 32 kHz and up; of 576 below).
      const frame = sampleRate >= 32_000 ? 1152 : 576;
      expect(audio.durationS, `${sampleRate}`).toBeGreaterThanOrEqual(2);
      expect(audio.durationS, `${sampleRate}`).toBeLessThan(2 + (3 * frame) / sampleRate);
    }
  });

  it('refuses junk where frames should be, and decodes what a file cut between frames holds', async () => {
    const bytes = await mp3([speechLike({ seconds: 6, sampleRate: 44_100 })]);
    expect(
      await decodeMp3(
        Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00' + 'not an mp3 at all, '.repeat(500)),
        LIMIT,
      ),
    ).toMatchObject({
      reason: 'AUDIO_UNDECODABLE',
    });
    const half = await decodeMp3(bytes.subarray(0, bytes.length >> 1), LIMIT);
    expect(half.kind).toBe('audio');
    if (half.kind === 'audio') expect(half.durationS).toBeCloseTo(3, 0);
    // mpg123 skips a damaged stretch and resyncs on the next frame: a glitch, not a refusal.
    expect((await decodeMp3(damaged(bytes, bytes.length >> 1), LIMIT)).kind).toBe('audio');
  });

  it('stops decoding past the limit', async () => {
    expect(await decodeMp3(await mp3([speechLike({ seconds: 8, sampleRate: 44_100 })]), 3)).toMatchObject({
      kind: 'too-long',
      limitS: 3,
    });
  });
});
