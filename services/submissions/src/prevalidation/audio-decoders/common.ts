/**
 * What every audio decoder shares: the shapes it answers with, the limits it holds a file to, and
 * the collector that gathers decoded samples chunk by chunk and stops at the duration limit.
 */
import type { AudioReason } from '../reasons.ts';

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

/**
 * A file longer than the decoding limit: refused as `AUDIO_TOO_LONG` without holding all of it in
 * memory (decoding stops as soon as the limit is crossed, so the silence check does not run).
 */
export interface TooLongAudio {
  kind: 'too-long';
  reason: Extract<AudioReason, 'AUDIO_TOO_LONG'>;
  /** The limit that was crossed, in seconds. */
  limitS: number;
  detail: string;
}

export type AudioDecoding = DecodedAudio | UndecodableAudio | TooLongAudio;

export interface DecodeOptions {
  /**
   * Decoding stops, and the file is refused as `AUDIO_TOO_LONG`, once it is known to be longer
   * than this (pre-validation passes the task's `max_duration_s`). Default and ceiling:
   * MAX_DECODED_DURATION_S.
   */
  maxDurationS?: number;
}

/**
 * 600 s: the largest `max_duration_s` a task may set (contracts' `TaskInput<'audio'>`), so anything
 * longer is too long for every task. It bounds the decoded samples of one file: at 48 kHz (Opus),
 * 600 s is 115 MB per channel of Float32, and the collector holds at most twice that while it
 * joins the chunks. A compressed upload (50 MiB by MEDIA_MAX_AUDIO_BYTES) can hold hours; it is
 * never decoded past the limit.
 */
export const MAX_DECODED_DURATION_S = 600;
/** Sample rates outside this range are not recordings of speech (or the header is corrupt). */
export const MIN_SAMPLE_RATE = 4_000;
export const MAX_SAMPLE_RATE = 384_000;
export const MAX_CHANNELS = 8;
/**
 * Compressed input is fed to the decoders in pieces of this size, and the duration limit checked
 * after each: 16 KiB is 16 s of the lowest-rate MP3 (8 kbit/s), so a file is never decoded more
 * than a few seconds past the limit.
 */
export const DECODE_CHUNK_BYTES = 16 * 1024;

export const undecodable = (detail: string): UndecodableAudio => ({
  kind: 'undecodable',
  reason: 'AUDIO_UNDECODABLE',
  detail,
});

export const unsupported = (detail: string): UndecodableAudio => ({
  kind: 'undecodable',
  reason: 'AUDIO_FORMAT_UNSUPPORTED',
  detail,
});

export const tooLong = (limitS: number, detail: string): TooLongAudio => ({
  kind: 'too-long',
  reason: 'AUDIO_TOO_LONG',
  limitS,
  detail,
});

/** A refusal: anything but decoded audio. */
export type Refusal = UndecodableAudio | TooLongAudio;

/** The limit in force: the caller's, never above MAX_DECODED_DURATION_S. */
export function decodingLimit(options: DecodeOptions | undefined): number {
  const asked = options?.maxDurationS;
  return asked !== undefined && asked > 0 ? Math.min(asked, MAX_DECODED_DURATION_S) : MAX_DECODED_DURATION_S;
}

/** `bytes` in pieces of `size` (views, not copies). */
export function* pieces(bytes: Uint8Array, size = DECODE_CHUNK_BYTES): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** What the wasm-audio-decoders answer for each call. */
export interface DecoderOutput {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

/** The first error a decoder reported, as a refusal: a damaged file is not guessed around. */
export function decoderErrors(output: DecoderOutput): UndecodableAudio | null {
  const [first] = output.errors;
  return first ? undecodable(`${output.errors.length} decoder error(s), first: ${first.message}`) : null;
}

/**
 * Runs a decoder call with `console.error` silenced: the wasm-audio-decoders print every frame
 * error there as well as returning it, and a damaged upload would fill the service's stderr.
 * The errors still come back in the call's result (and end up in the refusal's `detail`). Only
 * for synchronous calls, so that nothing else can log while it is silenced.
 */
export function quietly<T>(call: () => T): T {
  const original = console.error;
  console.error = () => undefined;
  try {
    return call();
  } finally {
    console.error = original;
  }
}

/** A wasm decoder instance: compiled on `ready`, its memory released by `free()`. */
interface WasmDecoder {
  ready: Promise<void>;
  free(): void;
}

/** Runs `use` on a fresh decoder and frees its wasm memory afterwards, whatever happens. */
export async function withDecoder<D extends WasmDecoder, R>(
  create: () => D,
  use: (decoder: D) => Promise<R>,
) {
  const decoder = create();
  try {
    await decoder.ready;
    return await use(decoder);
  } finally {
    try {
      decoder.free();
    } catch {
      // Freeing a decoder that never got ready: nothing was allocated.
    }
  }
}

/**
 * Gathers decoded samples, chunk by chunk, into one `Float32Array` per channel. It refuses a
 * stream whose shape is not a recording's (sample rate, channel count, or either changing midway)
 * and one that crosses the duration limit, as soon as the chunk that crosses it arrives.
 *
 * With `mergeIdenticalChannels`, a stream whose channels are the very same samples throughout (a
 * mono MP3, which mpg123 always puts out as two channels) comes out as one channel; each identical
 * chunk is kept once, so it also costs half the memory while collecting.
 */
export class PcmCollector {
  private readonly chunks: Float32Array[][] = [];
  private sampleRate = 0;
  private channelCount = 0;
  private frames = 0;
  private allIdentical = true;

  constructor(
    private readonly limitS: number,
    private readonly options: { mergeIdenticalChannels?: boolean } = {},
  ) {}

  get durationS(): number {
    return this.sampleRate ? this.frames / this.sampleRate : 0;
  }

  /** Adds one decoder output; a refusal when the stream cannot be a recording or is too long. */
  add(channelData: Float32Array[], samples: number, sampleRate: number): Refusal | null {
    if (samples <= 0) return null;
    if (this.frames === 0) {
      if (!(sampleRate >= MIN_SAMPLE_RATE && sampleRate <= MAX_SAMPLE_RATE)) {
        return undecodable(`sample rate ${sampleRate}`);
      }
      if (!(channelData.length >= 1 && channelData.length <= MAX_CHANNELS)) {
        return undecodable(`${channelData.length} channels`);
      }
      this.sampleRate = sampleRate;
      this.channelCount = channelData.length;
    } else if (sampleRate !== this.sampleRate || channelData.length !== this.channelCount) {
      return undecodable(
        `stream changes from ${this.channelCount} ch at ${this.sampleRate} Hz to ${channelData.length} ch at ${sampleRate} Hz`,
      );
    }
    if (channelData.some((channel) => channel.length < samples)) return undecodable('short decoder output');
    const chunk = channelData.map((channel) =>
      channel.length === samples ? channel : channel.subarray(0, samples),
    );
    if (this.options.mergeIdenticalChannels && chunk.length > 1 && identical(chunk)) {
      this.chunks.push([chunk[0]!]);
    } else {
      this.allIdentical = false;
      this.chunks.push(chunk);
    }
    this.frames += samples;
    if (this.durationS > this.limitS) {
      return tooLong(
        this.limitS,
        `longer than ${this.limitS} s (decoding stopped at ${this.durationS.toFixed(2)} s)`,
      );
    }
    return null;
  }

  /** The samples so far, cut to `maxFrames` when given; undecodable when there are none. */
  finish(maxFrames = Infinity): DecodedAudio | UndecodableAudio {
    if (this.frames === 0) return undecodable('no audio decoded');
    const frames = Math.min(this.frames, Math.max(0, Math.floor(maxFrames)));
    if (frames === 0) return undecodable('no audio decoded');
    const channelCount = this.options.mergeIdenticalChannels && this.allIdentical ? 1 : this.channelCount;
    const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
    let offset = 0;
    for (const chunk of this.chunks) {
      if (offset >= frames) break;
      const length = Math.min(chunk[0]!.length, frames - offset);
      for (let c = 0; c < channelCount; c++) {
        // A merged chunk holds its one channel for all of them.
        channels[c]!.set((chunk[c] ?? chunk[0]!).subarray(0, length), offset);
      }
      offset += length;
    }
    this.chunks.length = 0;
    return { kind: 'audio', sampleRate: this.sampleRate, channels, durationS: frames / this.sampleRate };
  }
}

function identical(channels: Float32Array[]): boolean {
  const [first, ...rest] = channels as [Float32Array, ...Float32Array[]];
  for (const other of rest) {
    for (let i = 0; i < first.length; i++) if (first[i] !== other[i]) return false;
  }
  return true;
}

/** A decoder of the wasm-audio-decoders family that takes a file in pieces. */
export interface StreamingDecoder {
  ready: Promise<void>;
  free(): void;
  decode(data: Uint8Array): Promise<DecoderOutput>;
  flush(): Promise<DecoderOutput>;
}

/**
 * Feeds a file to a streaming decoder piece by piece, stopping at the first error or once the
 * collector is past the limit.
 */
export async function decodeWith(
  create: () => StreamingDecoder,
  bytes: Uint8Array,
  limitS: number,
  maxFrames = Infinity,
): Promise<AudioDecoding> {
  const collector = new PcmCollector(limitS);
  const refusal = await withDecoder(create, async (decoder): Promise<Refusal | null> => {
    const take = (output: DecoderOutput) =>
      decoderErrors(output) ?? collector.add(output.channelData, output.samplesDecoded, output.sampleRate);
    for (const piece of pieces(bytes)) {
      const stop = take(await decoder.decode(piece));
      if (stop) return stop;
    }
    return take(await decoder.flush());
  });
  return refusal ?? collector.finish(maxFrames);
}
