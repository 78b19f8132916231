/**
 * MP3 (and MPEG-1/2 layers I and II): `mpg123-decoder` (mpg123 in WebAssembly), fed in pieces so
 * decoding stops at the duration limit. mpg123 always puts out two channels; a mono file's two
 * are the same samples and come out as one. MP3 has no length to check a cut-off file against:
 * a file cut between frames decodes to the frames it holds. Junk where frames should be is a
 * decoder error, and refused.
 */
import { MPEGDecoder } from 'mpg123-decoder';
import {
  type AudioDecoding,
  decoderErrors,
  PcmCollector,
  pieces,
  quietly,
  type Refusal,
  withDecoder,
} from './common.ts';

export async function decodeMp3(bytes: Uint8Array, limitS: number): Promise<AudioDecoding> {
  const collector = new PcmCollector(limitS, { mergeIdenticalChannels: true });
  const refusal = await withDecoder(
    () => new MPEGDecoder(),
    async (decoder): Promise<Refusal | null> => {
      for (const piece of pieces(bytes)) {
        const output = quietly(() => decoder.decode(piece));
        const stop =
          decoderErrors(output) ??
          collector.add(output.channelData, output.samplesDecoded, output.sampleRate);
        if (stop) return stop;
      }
      return null;
    },
  );
  return refusal ?? collector.finish();
}
