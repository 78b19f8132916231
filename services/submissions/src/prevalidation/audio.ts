import wavefile from 'wavefile';
import { type AudioReason, orderReasons } from './reasons.ts';

/** A recording as the checks see it: one `Float32Array` per channel, samples in [-1, 1]. */
export interface DecodedAudio {
  kind: 'audio';
  sampleRate: number;
  channels: Float32Array[];
  durationS: number;
}

/** A file the decoder could not turn into samples, and why (`detail` is for logs, not contributors). */
export interface UndecodableAudio {
  kind: 'undecodable';
  reason: Extract<AudioReason, 'AUDIO_UNDECODABLE' | 'AUDIO_FORMAT_UNSUPPORTED'>;
  detail: string;
}

export type AudioDecoding = DecodedAudio | UndecodableAudio;

/** The content types of WAV files, as sniffers and browsers spell them. */
export const wavContentTypes: readonly string[] = [
  'audio/wav',
  'audio/x-wav',
  'audio/wave',
  'audio/vnd.wave',
];

/** Sample rates outside this range are not recordings of speech (or the header is corrupt). */
const MIN_SAMPLE_RATE = 4_000;
const MAX_SAMPLE_RATE = 384_000;
const MAX_CHANNELS = 8;

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

interface WavFmt {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  /** WAVE_FORMAT_EXTENSIBLE: the first 32 bits of the sub-format GUID are the real format code. */
  subformat?: number[];
}

const undecodable = (detail: string): UndecodableAudio => ({
  kind: 'undecodable',
  reason: 'AUDIO_UNDECODABLE',
  detail,
});

/**
 * Decodes an uploaded recording into samples. WAV only (RIFF, RIFX and RF64 containers; PCM 8-,
 * 16-, 24- and 32-bit integer, 32- and 64-bit float, A-law and µ-law; any channel count up to 8):
 * `wavefile` parses the container, the samples are then scaled to [-1, 1] here, which is 4x
 * faster than its generic unpacker and also reads WAVE_FORMAT_EXTENSIBLE float files right. Any
 * other content type (MP3, Ogg, WebM, AAC, ...) is `AUDIO_FORMAT_UNSUPPORTED`. The content type
 * is the one media sniffed from the bytes. Async so that a decoder for other formats (they are
 * async) can be added behind the same signature.
 */
export async function decodeAudio(bytes: Uint8Array, contentType: string): Promise<AudioDecoding> {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (!wavContentTypes.includes(type)) {
    return { kind: 'undecodable', reason: 'AUDIO_FORMAT_UNSUPPORTED', detail: `content type ${type}` };
  }
  return Promise.resolve(decodeWav(bytes));
}

function decodeWav(bytes: Uint8Array): AudioDecoding {
  let wav: InstanceType<typeof wavefile.WaveFile>;
  try {
    wav = new wavefile.WaveFile(bytes);
  } catch (error) {
    return undecodable(`not a WAV file: ${(error as Error).message}`);
  }
  const fmt = wav.fmt as WavFmt;
  const { numChannels, sampleRate } = fmt;
  if (!(numChannels >= 1 && numChannels <= MAX_CHANNELS)) return undecodable(`${numChannels} channels`);
  if (!(sampleRate >= MIN_SAMPLE_RATE && sampleRate <= MAX_SAMPLE_RATE)) {
    return undecodable(`sample rate ${sampleRate}`);
  }
  let format = fmt.audioFormat === WAVE_FORMAT_EXTENSIBLE ? (fmt.subformat?.[0] ?? 0) : fmt.audioFormat;
  if (format === WAVE_FORMAT_ALAW || format === WAVE_FORMAT_MULAW) {
    // wavefile expands the companded bytes to 16-bit PCM in place.
    try {
      if (format === WAVE_FORMAT_ALAW) wav.fromALaw('16');
      else wav.fromMuLaw('16');
    } catch (error) {
      return undecodable(`companded samples: ${(error as Error).message}`);
    }
    format = WAVE_FORMAT_PCM;
  }
  const expanded = wav.fmt as WavFmt;
  const bytesPerSample = expanded.blockAlign / numChannels;
  const read = sampleReader(format, bytesPerSample, wav.container === 'RIFX');
  if (!read) {
    return {
      kind: 'undecodable',
      reason: 'AUDIO_FORMAT_UNSUPPORTED',
      detail: `WAV format ${fmt.audioFormat}, ${fmt.bitsPerSample} bits`,
    };
  }
  const raw = (wav.data as { samples: Uint8Array }).samples;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const frames = Math.floor(raw.byteLength / expanded.blockAlign);
  const channels = Array.from({ length: numChannels }, () => new Float32Array(frames));
  for (let channel = 0; channel < numChannels; channel++) {
    const out = channels[channel]!;
    let offset = channel * bytesPerSample;
    for (let frame = 0; frame < frames; frame++, offset += expanded.blockAlign)
      out[frame] = read(view, offset);
  }
  return { kind: 'audio', sampleRate, channels, durationS: frames / sampleRate };
}

type SampleReader = (view: DataView, offset: number) => number;

/** How to read one sample as a number in [-1, 1], per format and container size; null if unknown. */
function sampleReader(format: number, bytes: number, bigEndian: boolean): SampleReader | null {
  const little = !bigEndian;
  if (format === WAVE_FORMAT_PCM) {
    switch (bytes) {
      case 1:
        return (view, offset) => (view.getUint8(offset) - 128) / 128;
      case 2:
        return (view, offset) => view.getInt16(offset, little) / 32_768;
      case 3:
        return bigEndian
          ? (view, offset) => ((view.getInt8(offset) << 16) | view.getUint16(offset + 1, false)) / 8_388_608
          : (view, offset) => ((view.getInt8(offset + 2) << 16) | view.getUint16(offset, true)) / 8_388_608;
      case 4:
        return (view, offset) => view.getInt32(offset, little) / 2_147_483_648;
      default:
        return null;
    }
  }
  if (format === WAVE_FORMAT_IEEE_FLOAT) {
    if (bytes === 4) return (view, offset) => view.getFloat32(offset, little);
    if (bytes === 8) return (view, offset) => view.getFloat64(offset, little);
  }
  return null;
}

/*
 * Silence. The recording is cut into frames of SILENCE_FRAME_MS; each frame's level is its RMS
 * (after removing the frame's mean, so a DC offset is not sound), averaged in power over the
 * channels, in dBFS relative to a full-scale amplitude of 1 (a full-scale sine is -3 dBFS).
 * A frame is silent when its level is below the threshold: the recording's own noise floor (a
 * low percentile of the frame levels) plus a margin, but never below an absolute floor. So
 * digital silence and faint hiss are silent by the floor; a recording that is only steady noise
 * (hiss, hum, a fan) is silent by the margin, since nothing rises above its noise floor; and
 * speech rises well above both.
 */

/** 25 ms: the usual speech-analysis frame (20-30 ms), long enough for a few pitch periods. */
export const SILENCE_FRAME_MS = 25;
/**
 * -50 dBFS: speech recorded at a sensible distance sits around -20 to -30 dBFS RMS (broadcast and
 * podcast targets are -16 to -24 LUFS); phone microphones in a quiet room have a noise floor
 * around -60 to -70 dBFS. A frame below -50 dBFS is at most a whisper far from the microphone.
 */
export const SILENCE_FLOOR_DBFS = -50;
/** The noise floor is the level that 10 % of the frames are quieter than. */
export const NOISE_FLOOR_PERCENTILE = 0.1;
/**
 * 6 dB over the noise floor: twice the noise power. Steady noise varies by well under 1 dB from
 * frame to frame (a 25 ms frame averages hundreds of samples); a voice at a signal-to-noise
 * ratio of 5 dB or more clears it.
 */
export const NOISE_MARGIN_DB = 6;
/**
 * More than 80 % silent frames is mostly silence. Read speech has 15-40 % pauses, and a short
 * recording with a second of silence at each end still stays well under.
 */
export const MAX_SILENT_FRAME_RATIO = 0.8;
/** Levels are clamped here so digital silence (RMS 0, -Infinity dB) still sorts and averages. */
const MIN_LEVEL_DBFS = -120;

export interface SilenceMeasure {
  frames: number;
  silentFrames: number;
  /** Silent frames over all frames; 1 for a recording shorter than a frame. */
  silentRatio: number;
  noiseFloorDbfs: number;
  thresholdDbfs: number;
}

/** How much of the recording is silence or steady noise (see the thresholds above). */
export function measureSilence(audio: DecodedAudio): SilenceMeasure {
  const frameLength = Math.max(1, Math.round((audio.sampleRate * SILENCE_FRAME_MS) / 1000));
  const length = audio.channels[0]?.length ?? 0;
  const frames = Math.floor(length / frameLength);
  if (frames === 0) {
    return {
      frames: 0,
      silentFrames: 0,
      silentRatio: 1,
      noiseFloorDbfs: MIN_LEVEL_DBFS,
      thresholdDbfs: SILENCE_FLOOR_DBFS,
    };
  }
  const levels = new Float64Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    const start = frame * frameLength;
    let power = 0;
    for (const channel of audio.channels) {
      let sum = 0;
      let squares = 0;
      for (let i = start; i < start + frameLength; i++) {
        const sample = channel[i]!;
        sum += sample;
        squares += sample * sample;
      }
      const mean = sum / frameLength;
      power += Math.max(0, squares / frameLength - mean * mean);
    }
    power /= audio.channels.length;
    levels[frame] = power > 0 ? Math.max(MIN_LEVEL_DBFS, 10 * Math.log10(power)) : MIN_LEVEL_DBFS;
  }
  const sorted = levels.slice().sort();
  const noiseFloorDbfs = sorted[Math.floor(NOISE_FLOOR_PERCENTILE * (frames - 1))]!;
  const thresholdDbfs = Math.max(SILENCE_FLOOR_DBFS, noiseFloorDbfs + NOISE_MARGIN_DB);
  let silentFrames = 0;
  for (const level of levels) if (level < thresholdDbfs) silentFrames++;
  return { frames, silentFrames, silentRatio: silentFrames / frames, noiseFloorDbfs, thresholdDbfs };
}

export interface AudioRequirements {
  /** The task's `min_duration_s` and `max_duration_s` (seed: 5-120 s). */
  minDurationS: number;
  maxDurationS: number;
}

/** Why a recording fails pre-validation, in the canonical order; empty when it passes. */
export function checkAudio(audio: AudioDecoding, requirements: AudioRequirements): AudioReason[] {
  if (audio.kind === 'undecodable') return [audio.reason];
  const reasons: AudioReason[] = [];
  if (audio.durationS < requirements.minDurationS) reasons.push('AUDIO_TOO_SHORT');
  if (audio.durationS > requirements.maxDurationS) reasons.push('AUDIO_TOO_LONG');
  if (measureSilence(audio).silentRatio > MAX_SILENT_FRAME_RATIO) reasons.push('AUDIO_MOSTLY_SILENT');
  return orderReasons(reasons);
}
