import { decider } from '@tessera/service-kit/testing';
import wavefile from 'wavefile';
import { describe, expect, it } from 'vitest';
import {
  type AudioDecoding,
  type AudioRequirements,
  checkAudio,
  decodableAudioContentTypes,
  type DecodedAudio,
  decodeAudio,
  MAX_DECODED_DURATION_S,
  MAX_SILENT_FRAME_RATIO,
  measureSilence,
} from './audio.ts';
import { decideScreening } from './decide.ts';
import { type EncodingName, encodings, rms, tone } from './testing/encoded-audio.ts';
import { hiss, loop, random, silence, speechLike, wav, type WavBitDepth, wavs } from './testing/fixtures.ts';

const seed: AudioRequirements = { minDurationS: 5, maxDurationS: 120 };
const spec = decider(checkAudio);

async function decoded(bytes: Uint8Array, contentType = 'audio/wav'): Promise<DecodedAudio> {
  const audio = await decodeAudio(bytes, contentType);
  if (audio.kind !== 'audio') throw new Error(`undecodable: ${audio.detail}`);
  return audio;
}

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

describe('decoding a WAV upload', () => {
  it('reads 16-bit mono into samples in [-1, 1] with its rate and duration', async () => {
    const source = speechLike({ seconds: 8 });
    const audio = await decoded(wav([source]));
    expect(audio.sampleRate).toBe(16_000);
    expect(audio.channels).toHaveLength(1);
    expect(audio.durationS).toBe(8);
    expect(maxDifference(audio.channels[0]!, source)).toBeLessThan(1 / 32_000);
  });

  it.each<[WavBitDepth, number]>([
    ['8', 1 / 120],
    ['16', 1 / 32_000],
    ['24', 1e-6],
    ['32', 1e-6],
    ['32f', 1e-7],
    ['8a', 0.02],
    ['8m', 0.02],
  ])('reads %s-bit samples to within their resolution', async (bitDepth, tolerance) => {
    const source = speechLike({ seconds: 6 });
    const audio = await decoded(wav([source], 16_000, bitDepth));
    expect(audio.durationS).toBe(6);
    expect(maxDifference(audio.channels[0]!, source)).toBeLessThan(tolerance);
  });

  it('agrees with wavefile reading the same files', async () => {
    const source = speechLike({ seconds: 1 });
    const scale: Record<string, number> = {
      '8': 128,
      '16': 32_768,
      '24': 8_388_608,
      '32': 2_147_483_648,
      '32f': 1,
    };
    for (const bitDepth of ['8', '16', '24', '32', '32f'] as const) {
      const bytes = wav([source], 16_000, bitDepth);
      const theirs = new wavefile.WaveFile(bytes).getSamples(false, Float64Array);
      const expected = Float64Array.from(theirs, (v) => (bitDepth === '8' ? v - 128 : v) / scale[bitDepth]!);
      expect(maxDifference((await decoded(bytes)).channels[0]!, expected), bitDepth).toBeLessThan(1e-7);
    }
  });

  it('reads big-endian RIFX files', async () => {
    const source = speechLike({ seconds: 1 });
    for (const bitDepth of ['16', '24', '32f'] as const) {
      const audio = await decoded(wav([source], 16_000, bitDepth, 'RIFX'));
      expect(maxDifference(audio.channels[0]!, source), bitDepth).toBeLessThan(1 / 32_000);
    }
  });

  it('keeps the channels of a stereo file apart', async () => {
    const audio = await decoded(wavs.speechStereo());
    expect(audio.channels).toHaveLength(2);
    const [left, right] = audio.channels as [Float32Array, Float32Array];
    expect(
      maxDifference(
        right,
        left.map((v) => v * 0.7),
      ),
    ).toBeLessThan(1 / 16_000);
  });

  it('takes the WAV content types however spelled, with parameters', async () => {
    for (const type of ['audio/x-wav', 'audio/wave', 'Audio/WAV; codecs=1']) {
      expect((await decodeAudio(wavs.tooShort(), type)).kind, type).toBe('audio');
    }
  });

  it('answers AUDIO_FORMAT_UNSUPPORTED for formats it does not decode (AAC in M4A among them)', async () => {
    for (const type of ['audio/mp4', 'audio/aac', 'audio/x-m4a', 'video/mp4', 'audio/amr', 'text/plain']) {
      const audio = await decodeAudio(new Uint8Array(1000), type);
      expect(audio).toMatchObject({ kind: 'undecodable', reason: 'AUDIO_FORMAT_UNSUPPORTED' });
    }
  });

  it('answers AUDIO_UNDECODABLE for bytes that are not a WAV file', async () => {
    const bytes = wavs.tooShort();
    for (const bad of [
      new Uint8Array(0),
      bytes.subarray(0, 30),
      Buffer.from('RIFF....WAVEjunk'),
      Buffer.alloc(5000, 7),
    ]) {
      expect(await decodeAudio(bad, 'audio/wav')).toMatchObject({
        kind: 'undecodable',
        reason: 'AUDIO_UNDECODABLE',
      });
    }
  });

  it('refuses a header with an absurd sample rate', async () => {
    const bytes = wavs.tooShort();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(24, 1, true);
    expect(await decodeAudio(bytes, 'audio/wav')).toMatchObject({ reason: 'AUDIO_UNDECODABLE' });
  });

  it('decodes what a cut-off upload still holds', async () => {
    const bytes = wavs.speech();
    const audio = await decoded(bytes.subarray(0, 44 + 16_000 * 2 * 3));
    expect(audio.durationS).toBe(3);
  });
});

describe('decoding what browsers and phones record', () => {
  const names = Object.keys(encodings) as EncodingName[];

  it.each(names)('decodes %s: duration, sample rate, channels, and the energy of a tone', async (name) => {
    const { contentType, sampleRate, encode } = encodings[name];
    const audio = await decoded(await encode([tone({ seconds: 1.5, sampleRate })]), contentType);
    expect(audio.sampleRate).toBe(sampleRate);
    expect(audio.channels).toHaveLength(1);
    expect(audio.durationS).toBeGreaterThan(1.5 - 0.05);
    expect(audio.durationS).toBeLessThan(1.5 + 0.05);
    expect(audio.channels[0]!.length).toBe(Math.round(audio.durationS * audio.sampleRate));
    // A sine of amplitude 0.3 has an RMS of 0.212; lossy codecs keep it within a few percent.
    expect(rms(audio.channels[0]!)).toBeGreaterThan(0.18);
    expect(rms(audio.channels[0]!)).toBeLessThan(0.23);
  });

  it.each(names)('decodes %s silence as silence', async (name) => {
    const { contentType, sampleRate, encode } = encodings[name];
    const audio = await decoded(await encode([silence({ seconds: 1.5, sampleRate })]), contentType);
    expect(audio.durationS).toBeGreaterThan(1.5 - 0.05);
    expect(audio.durationS).toBeLessThan(1.5 + 0.05);
    expect(rms(audio.channels[0]!)).toBeLessThan(1e-4);
  });

  it.each(names)('keeps the two channels of a stereo %s apart', async (name) => {
    const { contentType, sampleRate, encode } = encodings[name];
    const left = tone({ seconds: 1.5, sampleRate, amplitude: 0.3 });
    const audio = await decoded(
      await encode([left, tone({ seconds: 1.5, sampleRate, amplitude: 0.03 })]),
      contentType,
    );
    expect(audio.channels).toHaveLength(2);
    expect(rms(audio.channels[0]!)).toBeGreaterThan(0.18);
    expect(rms(audio.channels[1]!)).toBeLessThan(0.03);
  });

  it.each(names)(
    'answers AUDIO_UNDECODABLE for a %s cut off in its headers, or not one at all',
    async (name) => {
      const { contentType, sampleRate, encode } = encodings[name];
      const bytes = await encode([tone({ seconds: 1.5, sampleRate })]);
      const rand = random(11);
      const noise = Uint8Array.from({ length: 20_000 }, () => Math.floor(rand() * 256));
      for (const bad of [new Uint8Array(0), bytes.subarray(0, 40), noise, new Uint8Array(20_000)]) {
        expect(await decodeAudio(bad, contentType)).toMatchObject({
          kind: 'undecodable',
          reason: 'AUDIO_UNDECODABLE',
        });
      }
    },
  );

  it('decodes every content type media stores for audio except M4A', () => {
    for (const type of ['audio/wav', 'audio/mpeg', 'audio/ogg', 'audio/webm', 'audio/flac']) {
      expect(decodableAudioContentTypes, type).toContain(type);
    }
    expect(decodableAudioContentTypes).not.toContain('audio/mp4');
  });

  it('refuses a file past the limit as AUDIO_TOO_LONG, without decoding all of it', async () => {
    for (const name of names) {
      const { contentType, sampleRate, encode } = encodings[name];
      const bytes = await encode([loop(speechLike({ seconds: 2, sampleRate }), 12 * sampleRate)]);
      expect(await decodeAudio(bytes, contentType, { maxDurationS: 5 }), name).toMatchObject({
        kind: 'too-long',
        reason: 'AUDIO_TOO_LONG',
        limitS: 5,
      });
      expect((await decodeAudio(bytes, contentType, { maxDurationS: 13 })).kind, name).toBe('audio');
    }
    const longWav = wav([silence({ seconds: 12, sampleRate: 8_000 })], 8_000);
    expect(await decodeAudio(longWav, 'audio/wav', { maxDurationS: 5 })).toMatchObject({
      reason: 'AUDIO_TOO_LONG',
    });
  });

  it('never decodes past MAX_DECODED_DURATION_S, whatever the caller asks', async () => {
    const minutes = (MAX_DECODED_DURATION_S + 2) / 60;
    const longWav = wav([new Float32Array(Math.round(minutes * 60 * 4_000))], 4_000, '8');
    expect(await decodeAudio(longWav, 'audio/wav', { maxDurationS: 10_000 })).toMatchObject({
      kind: 'too-long',
      limitS: MAX_DECODED_DURATION_S,
    });
  });
});

describe('checking a decoded recording of each format', () => {
  const names = Object.keys(encodings) as EncodingName[];
  const screen = (audio: AudioDecoding) =>
    decideScreening({
      checkReasons: checkAudio(audio, seed),
      exactDuplicate: false,
      nearDuplicateImage: false,
      duplicateText: false,
    });

  it.each(names)('passes 8 s of speech in %s', async (name) => {
    const { contentType, sampleRate, encode } = encodings[name];
    const audio = await decodeAudio(await encode([speechLike({ seconds: 8, sampleRate })]), contentType);
    expect(screen(audio)).toEqual({ pass: true });
    expect(measureSilence(audio as DecodedAudio).silentRatio).toBeLessThan(MAX_SILENT_FRAME_RATIO - 0.3);
  });

  it.each(names)('refuses 3 s of speech in %s as AUDIO_TOO_SHORT', async (name) => {
    const { contentType, sampleRate, encode } = encodings[name];
    const audio = await decodeAudio(await encode([speechLike({ seconds: 3, sampleRate })]), contentType);
    expect(screen(audio)).toEqual({ pass: false, reasons: ['AUDIO_TOO_SHORT'] });
  });

  it.each(names)('refuses silence and steady noise in %s as AUDIO_MOSTLY_SILENT', async (name) => {
    const { contentType, sampleRate, encode } = encodings[name];
    for (const samples of [
      silence({ seconds: 8, sampleRate }),
      hiss({ seconds: 8, sampleRate, levelDbfs: -30 }),
    ]) {
      const audio = await decodeAudio(await encode([samples]), contentType);
      expect(screen(audio)).toEqual({ pass: false, reasons: ['AUDIO_MOSTLY_SILENT'] });
    }
  });

  it.each(names)(
    'refuses %s over the task maximum as AUDIO_TOO_LONG, as pre-validation decodes it',
    async (name) => {
      const { contentType, sampleRate, encode } = encodings[name];
      const bytes = await encode([loop(speechLike({ seconds: 4, sampleRate }), 14 * sampleRate)]);
      const limits = { minDurationS: 5, maxDurationS: 12 };
      const audio = await decodeAudio(bytes, contentType, { maxDurationS: limits.maxDurationS });
      expect(checkAudio(audio, limits)).toEqual(['AUDIO_TOO_LONG']);
    },
  );
});

describe('checking a recording', () => {
  it('passes speech within the duration limits', async () => {
    spec
      .given(await decoded(wavs.speech()))
      .when(seed)
      .then([]);
  });

  it('passes stereo speech, 8-bit and float speech, and speech over background noise', async () => {
    spec
      .given(await decoded(wavs.speechStereo()))
      .when(seed)
      .then([]);
    spec
      .given(await decoded(wavs.speech('8')))
      .when(seed)
      .then([]);
    spec
      .given(await decoded(wavs.speech('32f', 44_100)))
      .when(seed)
      .then([]);
    spec
      .given(await decoded(wavs.speechInNoise()))
      .when(seed)
      .then([]);
  });

  it('passes a minute of speech at 16 kHz', async () => {
    spec
      .given(await decoded(wavs.minute()))
      .when(seed)
      .then([]);
  });

  it('refuses a recording under the minimum as AUDIO_TOO_SHORT', async () => {
    spec
      .given(await decoded(wavs.tooShort()))
      .when(seed)
      .then(['AUDIO_TOO_SHORT']);
  });

  it('refuses a recording over the maximum as AUDIO_TOO_LONG', async () => {
    spec
      .given(await decoded(wavs.tooLong()))
      .when(seed)
      .then(['AUDIO_TOO_LONG']);
  });

  it('takes the limits themselves as within', async () => {
    const audio = await decoded(wav([speechLike({ seconds: 5 })]));
    spec.given(audio).when({ minDurationS: 5, maxDurationS: 5 }).then([]);
  });

  it('refuses digital silence, faint hiss and steady noise as AUDIO_MOSTLY_SILENT', async () => {
    spec
      .given(await decoded(wavs.silent()))
      .when(seed)
      .then(['AUDIO_MOSTLY_SILENT']);
    spec
      .given(await decoded(wavs.lowHiss()))
      .when(seed)
      .then(['AUDIO_MOSTLY_SILENT']);
    spec
      .given(await decoded(wavs.steadyNoise()))
      .when(seed)
      .then(['AUDIO_MOSTLY_SILENT']);
  });

  it('refuses a second of speech in eight of silence as AUDIO_MOSTLY_SILENT', async () => {
    spec
      .given(await decoded(wavs.mostlySilent()))
      .when(seed)
      .then(['AUDIO_MOSTLY_SILENT']);
  });

  it('does not take a DC offset for sound', async () => {
    const offset = (samples: Float32Array) => samples.map((v) => v + 0.2);
    spec
      .given(await decoded(wav([offset(silence({ seconds: 8 }))])))
      .when(seed)
      .then(['AUDIO_MOSTLY_SILENT']);
    spec
      .given(await decoded(wav([offset(speechLike({ seconds: 8 }))])))
      .when(seed)
      .then([]);
  });

  it('gives every reason that applies, in order', async () => {
    spec
      .given(await decoded(wav([hiss({ seconds: 2, levelDbfs: -70 })])))
      .when(seed)
      .then(['AUDIO_TOO_SHORT', 'AUDIO_MOSTLY_SILENT']);
  });

  it('passes the decoder’s reason on for a file it could not read', () => {
    const unreadable: AudioDecoding = { kind: 'undecodable', reason: 'AUDIO_UNDECODABLE', detail: 'x' };
    spec.given(unreadable).when(seed).then(['AUDIO_UNDECODABLE']);
    spec
      .given({ ...unreadable, reason: 'AUDIO_FORMAT_UNSUPPORTED' })
      .when(seed)
      .then(['AUDIO_FORMAT_UNSUPPORTED']);
  });
});

describe('measuring silence', () => {
  it('finds speech far under the mostly-silent ratio and silence far over it', async () => {
    const speech = measureSilence(await decoded(wavs.speech()));
    expect(speech.silentRatio).toBeGreaterThan(0.2);
    expect(speech.silentRatio).toBeLessThan(MAX_SILENT_FRAME_RATIO - 0.3);
    expect(speech.thresholdDbfs).toBe(-50);
    const noisy = measureSilence(await decoded(wavs.steadyNoise()));
    expect(noisy.noiseFloorDbfs).toBeCloseTo(-30, 0);
    expect(noisy.silentRatio).toBe(1);
  });

  it('calls a recording shorter than one frame silent', () => {
    const empty: DecodedAudio = {
      kind: 'audio',
      sampleRate: 16_000,
      channels: [new Float32Array(100)],
      durationS: 0,
    };
    expect(measureSilence(empty)).toMatchObject({ frames: 0, silentRatio: 1 });
  });
});
