import { describe, expect, it } from 'vitest';
import { decodingLimit, MAX_DECODED_DURATION_S, PcmCollector, quietly } from './common.ts';

const ramp = (length: number, from = 0) => Float32Array.from({ length }, (_, i) => (from + i) / 1000);

describe('collecting decoded samples', () => {
  it('joins the chunks of each channel', () => {
    const collector = new PcmCollector(10);
    expect(collector.add([ramp(3), ramp(3, 100)], 3, 8_000)).toBeNull();
    expect(collector.add([ramp(2, 3), ramp(2, 103)], 2, 8_000)).toBeNull();
    const audio = collector.finish();
    expect(audio).toMatchObject({ kind: 'audio', sampleRate: 8_000, durationS: 5 / 8_000 });
    if (audio.kind !== 'audio') return;
    expect(Array.from(audio.channels[0]!)).toEqual(Array.from(ramp(5)));
    expect(Array.from(audio.channels[1]!)).toEqual(Array.from(ramp(5, 100)));
  });

  it('stops at the chunk that crosses the limit', () => {
    const collector = new PcmCollector(1);
    expect(collector.add([ramp(8_000)], 8_000, 8_000)).toBeNull();
    expect(collector.add([ramp(1)], 1, 8_000)).toMatchObject({
      kind: 'too-long',
      reason: 'AUDIO_TOO_LONG',
      limitS: 1,
    });
  });

  it('refuses what cannot be a recording: rates, channel counts, and a stream that changes them', () => {
    expect(new PcmCollector(10).add([ramp(10)], 10, 1_000)).toMatchObject({ reason: 'AUDIO_UNDECODABLE' });
    expect(
      new PcmCollector(10).add(
        Array.from({ length: 9 }, () => ramp(10)),
        10,
        8_000,
      ),
    ).toMatchObject({
      reason: 'AUDIO_UNDECODABLE',
    });
    const collector = new PcmCollector(10);
    collector.add([ramp(10)], 10, 8_000);
    expect(collector.add([ramp(10)], 10, 16_000)).toMatchObject({ reason: 'AUDIO_UNDECODABLE' });
    expect(collector.add([ramp(10), ramp(10)], 10, 8_000)).toMatchObject({ reason: 'AUDIO_UNDECODABLE' });
  });

  it('answers undecodable for no samples, and cuts to a given length', () => {
    expect(new PcmCollector(10).finish()).toMatchObject({ kind: 'undecodable', reason: 'AUDIO_UNDECODABLE' });
    const collector = new PcmCollector(10);
    collector.add([ramp(10)], 10, 8_000);
    expect(collector.finish(4)).toMatchObject({ durationS: 4 / 8_000 });
  });

  it('merges channels that are the same samples throughout, and only those', () => {
    const same = new PcmCollector(10, { mergeIdenticalChannels: true });
    same.add([ramp(4), ramp(4)], 4, 8_000);
    same.add([ramp(4, 4), ramp(4, 4)], 4, 8_000);
    const merged = same.finish();
    if (merged.kind !== 'audio') throw new Error(merged.detail);
    expect(merged.channels).toHaveLength(1);
    expect(Array.from(merged.channels[0]!)).toEqual(Array.from(ramp(8)));

    const differs = new PcmCollector(10, { mergeIdenticalChannels: true });
    differs.add([ramp(4), ramp(4)], 4, 8_000);
    differs.add([ramp(4, 4), ramp(4, 200)], 4, 8_000);
    const kept = differs.finish();
    if (kept.kind !== 'audio') throw new Error(kept.detail);
    expect(kept.channels).toHaveLength(2);
    expect(Array.from(kept.channels[1]!)).toEqual([...Array.from(ramp(4)), ...Array.from(ramp(4, 200))]);
  });
});

describe('the decoding limit', () => {
  it('is the caller’s, never above MAX_DECODED_DURATION_S', () => {
    expect(decodingLimit(undefined)).toBe(MAX_DECODED_DURATION_S);
    expect(decodingLimit({ maxDurationS: 120 })).toBe(120);
    expect(decodingLimit({ maxDurationS: 10_000 })).toBe(MAX_DECODED_DURATION_S);
    expect(decodingLimit({ maxDurationS: 0 })).toBe(MAX_DECODED_DURATION_S);
  });
});

describe('silencing a decoder', () => {
  it('drops console.error during the call only, and gives the call’s answer', () => {
    const original = console.error;
    expect(
      quietly(() => {
        console.error('not shown');
        return 42;
      }),
    ).toBe(42);
    expect(console.error).toBe(original);
    expect(() =>
      quietly(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(console.error).toBe(original);
  });
});
