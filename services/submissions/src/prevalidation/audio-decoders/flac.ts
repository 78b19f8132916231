/**
 * Native FLAC (Android recorders, exports from audio editors): `@wasm-audio-decoders/flac`
 * (libFLAC in WebAssembly) decodes the frames, which are found here: each must have a valid
 * header CRC-8 and frame CRC-16, and follow the previous one directly, so a damaged file is
 * refused instead of silently decoded up to the damage. (The library's own frame splitter joins
 * the last two frames when they are tiny, as digital silence is, and loses the last one.)
 * STREAMINFO says how many samples the stream holds: a file longer than the limit is refused
 * before decoding, and one whose frames hold fewer samples (cut off) is refused as undecodable.
 */
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import {
  type AudioDecoding,
  decoderErrors,
  PcmCollector,
  quietly,
  type Refusal,
  tooLong,
  undecodable,
  withDecoder,
} from './common.ts';

interface StreamInfo {
  sampleRate: number;
  /** 0 when the encoder did not know (a stream written live). */
  totalSamples: number;
  /** Where the first frame starts. */
  framesStart: number;
}

const latin1 = (bytes: Uint8Array, start: number, end: number) =>
  Buffer.from(bytes.subarray(start, end)).toString('latin1');

/** The stream's STREAMINFO and where its frames start, or why it is not a FLAC stream. */
function readMetadata(bytes: Uint8Array): StreamInfo | string {
  let offset = 0;
  if (latin1(bytes, 0, 3) === 'ID3' && bytes.length >= 10) {
    const size =
      ((bytes[6]! & 0x7f) << 21) |
      ((bytes[7]! & 0x7f) << 14) |
      ((bytes[8]! & 0x7f) << 7) |
      (bytes[9]! & 0x7f);
    offset = 10 + size + (bytes[5]! & 0x10 ? 10 : 0);
  }
  if (latin1(bytes, offset, offset + 4) !== 'fLaC') return 'no fLaC marker';
  offset += 4;
  // STREAMINFO must be the first metadata block (RFC 9639 §8.2); the others are skipped.
  if (bytes.length < offset + 4 + 34 || (bytes[offset]! & 0x7f) !== 0) return 'no STREAMINFO';
  const info = bytes.subarray(offset + 4, offset + 4 + 34);
  // Bits: min/max block size (16+16), min/max frame size (24+24), sample rate (20),
  // channels - 1 (3), bits per sample - 1 (5), total samples (36), MD5 (128).
  const sampleRate = (info[10]! << 12) | (info[11]! << 4) | (info[12]! >> 4);
  const totalSamples =
    (info[13]! & 0x0f) * 2 ** 32 + new DataView(info.buffer, info.byteOffset).getUint32(14);
  for (;;) {
    if (offset + 4 > bytes.length) return 'cut off in the metadata';
    const last = (bytes[offset]! & 0x80) !== 0;
    offset += 4 + ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!);
    if (last) break;
  }
  if (offset > bytes.length) return 'cut off in the metadata';
  return { sampleRate, totalSamples, framesStart: offset };
}

const crc8Table = Uint8Array.from({ length: 256 }, (_, i) => {
  let r = i;
  for (let bit = 0; bit < 8; bit++) r = r & 0x80 ? ((r << 1) ^ 0x07) & 0xff : (r << 1) & 0xff;
  return r;
});
const crc16Table = Uint16Array.from({ length: 256 }, (_, i) => {
  let r = i << 8;
  for (let bit = 0; bit < 8; bit++) r = r & 0x8000 ? ((r << 1) ^ 0x8005) & 0xffff : (r << 1) & 0xffff;
  return r;
});

/** The length of the valid frame header at `offset` (RFC 9639 §9.1), or 0 when there is none. */
function frameHeaderLength(bytes: Uint8Array, offset: number): number {
  if (bytes[offset] !== 0xff || (bytes[offset + 1]! & 0xfe) !== 0xf8) return 0;
  const blockSizeCode = bytes[offset + 2]! >> 4;
  const sampleRateCode = bytes[offset + 2]! & 0x0f;
  if (blockSizeCode === 0 || sampleRateCode === 15 || (bytes[offset + 3]! & 0x01) !== 0) return 0;
  // The coded frame or sample number: one byte, or a UTF-8-like lead byte and its followers.
  const lead = bytes[offset + 4] ?? 0xff;
  let length = 5;
  if (lead >= 0x80) {
    let followers = 0;
    for (let mask = 0x40; lead & mask && followers < 7; mask >>= 1) followers++;
    if (followers === 0 || followers > 6) return 0;
    length += followers;
  }
  if (blockSizeCode === 6) length += 1;
  else if (blockSizeCode === 7) length += 2;
  if (sampleRateCode === 12) length += 1;
  else if (sampleRateCode === 13 || sampleRateCode === 14) length += 2;
  if (offset + length + 1 > bytes.length) return 0;
  let crc = 0;
  for (let i = offset; i < offset + length; i++) crc = crc8Table[crc ^ bytes[i]!]!;
  return crc === bytes[offset + length] ? length + 1 : 0;
}

/** The stream is damaged or cut off: where and how. */
class FlacDamage extends Error {}

/**
 * The frames, one after the other, each from one valid header to the next with its CRC-16
 * checked (the CRC-16 over a whole frame, its own CRC included, is 0). Views of the bytes,
 * nothing kept. Throws FlacDamage where the stream is not whole frames end to end.
 */
function* framesOf(bytes: Uint8Array, start: number): Generator<Uint8Array> {
  let offset = start;
  while (offset < bytes.length) {
    const headerLength = frameHeaderLength(bytes, offset);
    if (headerLength === 0) {
      // An ID3v1 tag may follow the last frame.
      if (bytes.length - offset === 128 && latin1(bytes, offset, offset + 3) === 'TAG') return;
      throw new FlacDamage(`no FLAC frame at byte ${offset}`);
    }
    let crc = 0;
    let end = -1;
    for (let i = offset; i < bytes.length; i++) {
      crc = (((crc << 8) & 0xffff) ^ crc16Table[(crc >> 8) ^ bytes[i]!]!) & 0xffff;
      const next = i + 1;
      if (crc !== 0 || next - offset < headerLength + 3) continue;
      const tag = bytes.length - next === 128 && latin1(bytes, next, next + 3) === 'TAG';
      if (next === bytes.length || tag || frameHeaderLength(bytes, next) > 0) {
        end = next;
        break;
      }
    }
    if (end < 0) throw new FlacDamage(`damaged or cut-off FLAC frame at byte ${offset}`);
    yield bytes.subarray(offset, end);
    offset = end;
  }
}

/** Frames decoded per call: a few seconds of audio, so the duration limit is checked as it goes. */
const FRAMES_PER_BATCH = 32;

export async function decodeFlac(bytes: Uint8Array, limitS: number): Promise<AudioDecoding> {
  const info = readMetadata(bytes);
  if (typeof info === 'string') return undecodable(`FLAC: ${info}`);
  const { sampleRate, totalSamples } = info;
  if (sampleRate === 0) return undecodable('FLAC: sample rate 0');
  if (totalSamples / sampleRate > limitS) {
    return tooLong(
      limitS,
      `longer than ${limitS} s (${(totalSamples / sampleRate).toFixed(2)} s by STREAMINFO)`,
    );
  }
  const collector = new PcmCollector(limitS);
  const refusal = await withDecoder(
    () => new FLACDecoder(),
    async (decoder): Promise<Refusal | null> => {
      let batch: Uint8Array[] = [];
      const decodeBatch = async (): Promise<Refusal | null> => {
        if (batch.length === 0) return null;
        // The call decodes synchronously; only its answer is a promise.
        const output = await quietly(() => decoder.decodeFrames(batch));
        batch = [];
        return (
          decoderErrors(output) ?? collector.add(output.channelData, output.samplesDecoded, output.sampleRate)
        );
      };
      try {
        for (const frame of framesOf(bytes, info.framesStart)) {
          batch.push(frame);
          const stop = batch.length >= FRAMES_PER_BATCH ? await decodeBatch() : null;
          if (stop) return stop;
        }
      } catch (error) {
        if (error instanceof FlacDamage) return undecodable(`FLAC: ${error.message}`);
        throw error;
      }
      return decodeBatch();
    },
  );
  if (refusal) return refusal;
  const decoded = collector.finish(totalSamples || Infinity);
  if (decoded.kind === 'audio' && totalSamples > 0 && decoded.channels[0]!.length < totalSamples) {
    return undecodable(`FLAC: ${decoded.channels[0]!.length} of ${totalSamples} samples decoded`);
  }
  return decoded;
}
