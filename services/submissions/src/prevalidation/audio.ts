import { type AudioReason, orderReasons } from './reasons.ts';
import {
  type AudioDecoding,
  type DecodedAudio,
  type DecodeOptions,
  decodingLimit,
  undecodable,
  unsupported,
} from './audio-decoders/common.ts';
import { decodeFlac } from './audio-decoders/flac.ts';
import { decodeMp3 } from './audio-decoders/mp3.ts';
import { decodeOgg } from './audio-decoders/ogg.ts';
import { decodeWav, wavContentTypes } from './audio-decoders/wav.ts';
import { decodeWebm } from './audio-decoders/webm.ts';

export type {
  AudioDecoding,
  DecodedAudio,
  DecodeOptions,
  TooLongAudio,
  UndecodableAudio,
} from './audio-decoders/common.ts';
export { MAX_DECODED_DURATION_S } from './audio-decoders/common.ts';
export { wavContentTypes };

type Decoder = (bytes: Uint8Array, limitS: number) => AudioDecoding | Promise<AudioDecoding>;

/**
 * The decoder of each content type, as media stores them (`media/decide.ts:acceptedFormats`) and
 * as other sniffers and browsers spell them. Not here: `audio/mp4` (AAC in M4A, what iPhones and
 * Safari record). The AAC decoders for JavaScript or WebAssembly wrap FAAD2 and are GPL-2.0
 * (`@audio/decode-aac` decodes M4A in a trial); none is added without a licence decision, so
 * M4A stays `AUDIO_FORMAT_UNSUPPORTED`.
 */
const decoders: ReadonlyMap<string, Decoder> = new Map<string, Decoder>([
  ...wavContentTypes.map((type): [string, Decoder] => [type, decodeWav]),
  ['audio/mpeg', decodeMp3],
  ['audio/mp3', decodeMp3],
  ['audio/ogg', decodeOgg],
  ['audio/opus', decodeOgg],
  ['application/ogg', decodeOgg],
  ['audio/webm', decodeWebm],
  ['video/webm', decodeWebm],
  ['audio/x-matroska', decodeWebm],
  ['audio/flac', decodeFlac],
  ['audio/x-flac', decodeFlac],
]);

/** The content types `decodeAudio` decodes (any other is `AUDIO_FORMAT_UNSUPPORTED`). */
export const decodableAudioContentTypes: readonly string[] = [...decoders.keys()];

/**
 * Decodes an uploaded recording into samples, by the content type media sniffed from its bytes:
 * WAV (audio-decoders/wav.ts), MP3 (mp3.ts), Ogg Opus and Vorbis (ogg.ts), WebM Opus
 * (webm.ts), FLAC (flac.ts); anything else (AAC in M4A among them) is `AUDIO_FORMAT_UNSUPPORTED`.
 *
 * A file that is damaged or cut off where its container shows it is `AUDIO_UNDECODABLE`, and so
 * is one that decodes to nothing or with any decoder error. A file longer than the limit
 * (`options.maxDurationS`, at most MAX_DECODED_DURATION_S) is `AUDIO_TOO_LONG`, found from its
 * headers where they tell, or else by decoding no further than the limit: the samples of a long
 * file are never all held in memory. Never throws: a decoder that fails on a file is that file's
 * `AUDIO_UNDECODABLE`.
 */
export async function decodeAudio(
  bytes: Uint8Array,
  contentType: string,
  options?: DecodeOptions,
): Promise<AudioDecoding> {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const decode = decoders.get(type);
  if (!decode) return unsupported(`content type ${type}`);
  try {
    return await decode(bytes, decodingLimit(options));
  } catch (error) {
    return undecodable(`${type}: ${(error as Error).message}`);
  }
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
  if (audio.kind !== 'audio') return [audio.reason];
  const reasons: AudioReason[] = [];
  if (audio.durationS < requirements.minDurationS) reasons.push('AUDIO_TOO_SHORT');
  if (audio.durationS > requirements.maxDurationS) reasons.push('AUDIO_TOO_LONG');
  if (measureSilence(audio).silentRatio > MAX_SILENT_FRAME_RATIO) reasons.push('AUDIO_MOSTLY_SILENT');
  return orderReasons(reasons);
}
