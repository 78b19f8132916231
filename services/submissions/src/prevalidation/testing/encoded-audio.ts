/**
 * Compressed recordings for the decoder tests and the bench, encoded in code at test time from
 * the signals of fixtures.ts (no binary files in the repository), by the reference encoders in
 * WebAssembly: libopus (`opusscript`), LAME and libvorbis (`wasm-media-encoders`), libFLAC
 * (`@mediabunny/flac-encoder`), in the containers `mediabunny` writes. Each encoder is
 * deterministic: the same signal gives the same bytes.
 *
 * The files are what browsers and phones upload: Ogg Opus as Firefox's MediaRecorder writes it,
 * WebM Opus as Chrome's does (live: clusters of unknown size, no duration, no cues), MP3 and Ogg
 * Vorbis as recorder apps export them, FLAC with its STREAMINFO.
 */
import { registerFlacEncoder } from '@mediabunny/flac-encoder';
import {
  AudioSample,
  AudioSampleSource,
  BufferTarget,
  EncodedAudioPacketSource,
  EncodedPacket,
  FlacOutputFormat,
  OggOutputFormat,
  Output,
  WebMOutputFormat,
} from 'mediabunny';
import OpusScript from 'opusscript';
import { createMp3Encoder, createOggEncoder } from 'wasm-media-encoders';

type Channels = Float32Array[];

const toInt16 = (value: number) => Math.round(Math.max(-1, Math.min(1, value)) * 32_767);

/** The encoder's look-ahead at 48 kHz that libopus reports (OPUS_GET_LOOKAHEAD): 6.5 ms. */
const OPUS_PRE_SKIP = 312;
export const OPUS_RATES = [8_000, 12_000, 16_000, 24_000, 48_000] as const;

/** The OpusHead of a mono or stereo stream (RFC 7845 §5.1, channel mapping family 0). */
export function opusHead(channels: number, inputSampleRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  head.set(Buffer.from('OpusHead', 'latin1'));
  head[8] = 1;
  head[9] = channels;
  view.setUint16(10, OPUS_PRE_SKIP, true);
  view.setUint32(12, inputSampleRate, true);
  return head;
}

/**
 * Opus packets of 20 ms (the last one padded with silence), as libopus encodes them. The encoder
 * is not flushed, so the stream ends its 6.5 ms look-ahead before the signal does.
 */
function opusPackets(
  channels: Channels,
  sampleRate: (typeof OPUS_RATES)[number],
  bitrate: number,
): Uint8Array[] {
  const encoder = new OpusScript(sampleRate, channels.length, OpusScript.Application.AUDIO);
  encoder.setBitrate(bitrate);
  const frame = sampleRate / 50;
  const length = channels[0]!.length;
  const packets: Uint8Array[] = [];
  try {
    for (let start = 0; start < length; start += frame) {
      const pcm = new Int16Array(frame * channels.length);
      for (let i = 0; i < frame && start + i < length; i++) {
        for (let c = 0; c < channels.length; c++)
          pcm[i * channels.length + c] = toInt16(channels[c]![start + i]!);
      }
      packets.push(new Uint8Array(encoder.encode(Buffer.from(pcm.buffer), frame)));
    }
  } finally {
    encoder.delete();
  }
  return packets;
}

async function muxOpus(
  format: OggOutputFormat | WebMOutputFormat,
  channels: Channels,
  sampleRate: (typeof OPUS_RATES)[number],
  bitrate: number,
): Promise<Uint8Array> {
  const output = new Output({ format, target: new BufferTarget() });
  const source = new EncodedAudioPacketSource('opus');
  output.addAudioTrack(source);
  await output.start();
  const decoderConfig = {
    codec: 'opus',
    numberOfChannels: channels.length,
    sampleRate: 48_000,
    description: opusHead(channels.length, sampleRate),
  };
  const packets = opusPackets(channels, sampleRate, bitrate);
  for (const [n, data] of packets.entries()) {
    const packet = new EncodedPacket(data, 'key', n * 0.02, 0.02);
    await source.add(packet, n === 0 ? { decoderConfig } : undefined);
  }
  source.close();
  await output.finalize();
  return new Uint8Array(output.target.buffer!);
}

/** Ogg Opus (Firefox's MediaRecorder; `.opus`, `.ogg`). */
export function oggOpus(
  channels: Channels,
  sampleRate: (typeof OPUS_RATES)[number] = 48_000,
  bitrate = 32_000,
): Promise<Uint8Array> {
  return muxOpus(new OggOutputFormat(), channels, sampleRate, bitrate);
}

export interface WebmOptions {
  sampleRate?: (typeof OPUS_RATES)[number];
  bitrate?: number;
  live?: boolean;
}

/**
 * WebM Opus. `live` (the default) writes it as MediaRecorder does, appending as it goes: no
 * duration, clusters of unknown size, no cues; otherwise whole, with its duration.
 */
export function webmOpus(
  channels: Channels,
  { sampleRate = 48_000, bitrate = 32_000, live = true }: WebmOptions = {},
): Promise<Uint8Array> {
  return muxOpus(new WebMOutputFormat({ appendOnly: live }), channels, sampleRate, bitrate);
}

/** The encoder's output is its own buffer, reused by the next call: copied here. */
const copy = (bytes: Uint8Array) => bytes.slice();

/**
 * MP3, constant bit rate, by LAME, at the signal's own rate (LAME would otherwise resample for a
 * low bit rate). No Xing/LAME header, as from a streaming encoder: the decoder cannot trim the
 * encoder's delay and padding, so it decodes about 40 ms more than the signal.
 */
export async function mp3(
  channels: Channels,
  sampleRate: 8_000 | 16_000 | 22_050 | 24_000 | 32_000 | 44_100 | 48_000 = 44_100,
  bitrate: 32 | 64 | 128 = 64,
): Promise<Uint8Array> {
  const encoder = await createMp3Encoder();
  encoder.configure({
    sampleRate,
    outputSampleRate: sampleRate,
    channels: channels.length as 1 | 2,
    bitrate,
  });
  return Buffer.concat([copy(encoder.encode(channels)), copy(encoder.finalize())]);
}

/** Ogg Vorbis, by libvorbis at quality 3 (variable bit rate). */
export async function oggVorbis(channels: Channels, sampleRate = 44_100): Promise<Uint8Array> {
  const encoder = await createOggEncoder();
  encoder.configure({ sampleRate, channels: channels.length as 1 | 2, vbrQuality: 3 });
  return Buffer.concat([copy(encoder.encode(channels)), copy(encoder.finalize())]);
}

let flacRegistered = false;

/** FLAC, 16-bit, by libFLAC (its STREAMINFO states the number of samples). */
export async function flac(channels: Channels, sampleRate = 16_000): Promise<Uint8Array> {
  if (!flacRegistered) {
    registerFlacEncoder();
    flacRegistered = true;
  }
  const output = new Output({ format: new FlacOutputFormat(), target: new BufferTarget() });
  const source = new AudioSampleSource({ codec: 'flac' });
  output.addAudioTrack(source);
  await output.start();
  const frames = channels[0]!.length;
  const data = new Int16Array(frames * channels.length);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels.length; c++) data[i * channels.length + c] = toInt16(channels[c]![i]!);
  }
  const sample = new AudioSample({
    data,
    format: 's16',
    numberOfChannels: channels.length,
    sampleRate,
    timestamp: 0,
  });
  await source.add(sample);
  sample.close();
  source.close();
  await output.finalize();
  return new Uint8Array(output.target.buffer!);
}

/** A sine of `hz` at amplitude `amplitude` (0.3: about -13 dBFS RMS). */
export function tone({
  seconds,
  sampleRate,
  hz = 440,
  amplitude = 0.3,
}: {
  seconds: number;
  sampleRate: number;
  hz?: number;
  amplitude?: number;
}): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate);
  return out;
}

/** Each encoding, by name, with the content type media stores it under. */
export const encodings = {
  'Ogg Opus': { contentType: 'audio/ogg', sampleRate: 48_000, encode: (c: Channels) => oggOpus(c) },
  'WebM Opus': { contentType: 'audio/webm', sampleRate: 48_000, encode: (c: Channels) => webmOpus(c) },
  MP3: { contentType: 'audio/mpeg', sampleRate: 44_100, encode: (c: Channels) => mp3(c) },
  'Ogg Vorbis': { contentType: 'audio/ogg', sampleRate: 44_100, encode: (c: Channels) => oggVorbis(c) },
  FLAC: { contentType: 'audio/flac', sampleRate: 16_000, encode: (c: Channels) => flac(c) },
} as const;
export type EncodingName = keyof typeof encodings;

/** The RMS of the samples (0 for none). */
export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}

/** A copy of `bytes` with `count` bytes from `at` replaced by a fixed pattern (not audio). */
export function damaged(bytes: Uint8Array, at: number, count = 600): Uint8Array {
  const copy = new Uint8Array(bytes);
  for (let i = 0; i < count && at + i < copy.length; i++) copy[at + i] = (i * 97 + 13) & 0xff;
  return copy;
}
