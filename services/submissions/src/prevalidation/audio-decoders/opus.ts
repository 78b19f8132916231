/**
 * Opus packets to samples, for both containers that carry them (Ogg and WebM): `opus-decoder`
 * (libopus in WebAssembly) at Opus's own 48 kHz, set up from the stream's OpusHead.
 */
import { OpusDecoder } from 'opus-decoder';
import {
  decoderErrors,
  type PcmCollector,
  quietly,
  type Refusal,
  unsupported,
  withDecoder,
} from './common.ts';

/** The identification header of an Opus stream (RFC 7845 §5.1). */
export interface OpusHead {
  channels: number;
  /** Samples (at 48 kHz) the decoder drops at the start: the encoder's look-ahead. */
  preSkip: number;
  streamCount: number;
  coupledStreamCount: number;
  channelMappingTable: number[];
}

export const OPUS_SAMPLE_RATE = 48_000;

/** Reads an OpusHead; null when the bytes are not one. */
export function parseOpusHead(bytes: Uint8Array): OpusHead | null {
  if (bytes.length < 19 || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== 'OpusHead') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[8]!;
  const channels = bytes[9]!;
  if (version >> 4 !== 0 || channels === 0) return null;
  const preSkip = view.getUint16(10, true);
  const family = bytes[18]!;
  if (family === 0) {
    if (channels > 2) return null;
    return {
      channels,
      preSkip,
      streamCount: 1,
      coupledStreamCount: channels - 1,
      channelMappingTable: channels === 1 ? [0] : [0, 1],
    };
  }
  if (bytes.length < 21 + channels) return null;
  const streamCount = bytes[19]!;
  const coupledStreamCount = bytes[20]!;
  return {
    channels,
    preSkip,
    streamCount,
    coupledStreamCount,
    channelMappingTable: Array.from(bytes.subarray(21, 21 + channels)),
  };
}

/** How many packets go to the decoder at once: 50 packets of 20 ms are a second of audio. */
const PACKETS_PER_BATCH = 50;

/**
 * Decodes the packets (in batches, so the duration limit is checked as it goes) into the
 * collector. A refusal when the header is not one we decode, a packet is corrupt, or the
 * collector stops (too long).
 */
export async function decodeOpusPackets(
  head: OpusHead,
  packets: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  collector: PcmCollector,
): Promise<Refusal | null> {
  if (head.channels > 8 || head.streamCount === 0) {
    return unsupported(`Opus with ${head.channels} channels in ${head.streamCount} streams`);
  }
  return withDecoder(
    () =>
      new OpusDecoder({
        channels: head.channels,
        preSkip: head.preSkip,
        streamCount: head.streamCount,
        coupledStreamCount: head.coupledStreamCount,
        channelMappingTable: head.channelMappingTable,
      }),
    async (decoder) => {
      let batch: Uint8Array[] = [];
      const decodeBatch = (): Refusal | null => {
        if (batch.length === 0) return null;
        const output = quietly(() => decoder.decodeFrames(batch));
        batch = [];
        return (
          decoderErrors(output) ?? collector.add(output.channelData, output.samplesDecoded, output.sampleRate)
        );
      };
      for await (const packet of packets) {
        batch.push(packet);
        if (batch.length >= PACKETS_PER_BATCH) {
          const refusal = decodeBatch();
          if (refusal) return refusal;
        }
      }
      return decodeBatch();
    },
  );
}
