/**
 * Ogg (RFC 3533): Opus (Firefox's MediaRecorder, WhatsApp and Telegram voice notes, Android
 * recorders) and Vorbis. The pages are walked here first: each must be whole and carry the right
 * CRC, so a damaged or cut-off file is refused rather than decoded into something else (the
 * decoders themselves decode a cut-off last page as seconds of made-up audio). Opus packets then
 * go to `opus-decoder`, a Vorbis stream to `@wasm-audio-decoders/ogg-vorbis`. Any other Ogg
 * stream is `AUDIO_FORMAT_UNSUPPORTED` (media refuses FLAC and Speex in Ogg at upload already:
 * file-type names them `oga` and `spx`).
 */
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { type AudioDecoding, decodeWith, PcmCollector, tooLong, undecodable, unsupported } from './common.ts';
import { decodeOpusPackets, OPUS_SAMPLE_RATE, parseOpusHead } from './opus.ts';

interface OggPage {
  /** Bit 0: continues a packet from the previous page; bit 1: first page; bit 2: last page. */
  headerType: number;
  /** -1 when no packet ends on the page. */
  granulePosition: bigint;
  serial: number;
  lacing: Uint8Array;
  body: Uint8Array;
}

const CONTINUED = 0x01;
const END_OF_STREAM = 0x04;
const HEADER_BYTES = 27;

/** The Ogg CRC-32: polynomial 0x04c11db7, not reflected, initial value and final xor 0. */
const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

function crc(bytes: Uint8Array, value = 0): number {
  for (let i = 0; i < bytes.length; i++)
    value = ((value << 8) ^ crcTable[((value >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return value;
}

/** The file is not whole Ogg pages end to end: where and how. */
class OggDamage extends Error {}

/**
 * The pages of the file, one after the other, as views of its bytes (nothing is kept: a file of
 * millions of tiny pages costs no more memory than one of a few large ones). Throws OggDamage at
 * the first page that is cut off, has a wrong CRC (with `verify`), or is not a page at all.
 */
function* pagesOf(bytes: Uint8Array, verify: boolean): Generator<OggPage> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < HEADER_BYTES)
      throw new OggDamage(`cut off in a page header at byte ${offset}`);
    if (view.getUint32(offset) !== 0x4f676753 /* OggS */ || bytes[offset + 4] !== 0) {
      throw new OggDamage(`no Ogg page at byte ${offset}`);
    }
    const segments = bytes[offset + 26]!;
    const lacing = bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + segments);
    if (lacing.length < segments) throw new OggDamage(`cut off in a page header at byte ${offset}`);
    const bodyLength = lacing.reduce((sum, value) => sum + value, 0);
    const bodyStart = offset + HEADER_BYTES + segments;
    const end = bodyStart + bodyLength;
    if (end > bytes.length) throw new OggDamage(`cut off in the page at byte ${offset}`);
    if (verify) {
      let computed = crc(bytes.subarray(offset, offset + 22));
      computed = crc(new Uint8Array(4), computed);
      computed = crc(bytes.subarray(offset + 26, end), computed);
      if (computed !== view.getUint32(offset + 22, true))
        throw new OggDamage(`bad CRC in the page at byte ${offset}`);
    }
    yield {
      headerType: bytes[offset + 5]!,
      granulePosition: view.getBigInt64(offset + 6, true),
      serial: view.getUint32(offset + 14, true),
      lacing,
      body: bytes.subarray(bodyStart, end),
    };
    offset = end;
  }
}

interface OggStream {
  /** The serial number of the first logical stream: the one decoded. */
  serial: number;
  /** Its first packet, which names the codec. */
  head: Uint8Array;
  /** Its last granule position, and whether the page that has it is marked as the last. */
  end: { granule: bigint; ended: boolean } | null;
}

/** Walks every page once (verifying each), keeping only what describes the first stream. */
function survey(bytes: Uint8Array): OggStream | string {
  let serial: number | null = null;
  let end: OggStream['end'] = null;
  try {
    for (const page of pagesOf(bytes, true)) {
      serial ??= page.serial;
      if (page.serial === serial && page.granulePosition >= 0n) {
        end = { granule: page.granulePosition, ended: (page.headerType & END_OF_STREAM) !== 0 };
      }
    }
  } catch (error) {
    if (error instanceof OggDamage) return error.message;
    throw error;
  }
  if (serial === null) return 'no Ogg page';
  const head = packetsOf(bytes, serial).next();
  return head.done ? 'no packet' : { serial, head: head.value, end };
}

/** The packets of one logical stream, in order (a packet may span pages). */
function* packetsOf(bytes: Uint8Array, serial: number): Generator<Uint8Array> {
  let parts: Uint8Array[] = [];
  for (const page of pagesOf(bytes, false)) {
    if (page.serial !== serial) continue;
    // A continuation with nothing to continue (the stream's first page): drop the fragment.
    const dropFirst = (page.headerType & CONTINUED) !== 0 && parts.length === 0;
    let position = 0;
    let first = true;
    for (const value of page.lacing) {
      const part = page.body.subarray(position, position + value);
      position += value;
      if (!(first && dropFirst)) parts.push(part);
      if (value < 255) {
        if (!(first && dropFirst)) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        parts = [];
        first = false;
      }
    }
  }
}

const startsWith = (bytes: Uint8Array, text: string) =>
  bytes.length >= text.length && Buffer.from(bytes.subarray(0, text.length)).toString('latin1') === text;

export async function decodeOgg(bytes: Uint8Array, limitS: number): Promise<AudioDecoding> {
  const stream = survey(bytes);
  if (typeof stream === 'string') return undecodable(`Ogg: ${stream}`);
  const { head } = stream;
  if (startsWith(head, 'OpusHead')) return decodeOggOpus(bytes, stream, limitS);
  if (startsWith(head, '\x01vorbis')) return decodeOggVorbis(bytes, stream, limitS);
  return unsupported(`Ogg stream of ${JSON.stringify(Buffer.from(head.subarray(0, 8)).toString('latin1'))}`);
}

async function decodeOggOpus(
  bytes: Uint8Array,
  { serial, head: headPacket, end }: OggStream,
  limitS: number,
) {
  const head = parseOpusHead(headPacket);
  if (!head) return undecodable('Ogg Opus: bad OpusHead');
  // The granule position counts 48 kHz samples, the encoder's pre-skip included.
  const declared = end ? Number(end.granule) - head.preSkip : null;
  if (declared !== null && declared / OPUS_SAMPLE_RATE > limitS) {
    return tooLong(
      limitS,
      `longer than ${limitS} s (${(declared / OPUS_SAMPLE_RATE).toFixed(2)} s by its last page)`,
    );
  }
  const packets = packetsOf(bytes, serial);
  packets.next(); // OpusHead
  const tags = packets.next();
  if (tags.done || !startsWith(tags.value, 'OpusTags')) return undecodable('Ogg Opus: no OpusTags');
  const collector = new PcmCollector(limitS);
  const refusal = await decodeOpusPackets(head, packets, collector);
  if (refusal) return refusal;
  // The last packet is decoded whole; the last page's granule says where the audio really ends.
  return collector.finish(end?.ended && declared !== null && declared >= 0 ? declared : Infinity);
}

async function decodeOggVorbis(bytes: Uint8Array, { head, end }: OggStream, limitS: number) {
  // Identification header: packet type, "vorbis", version (4), channels (1), sample rate (4).
  const sampleRate = head.length >= 16 ? new DataView(head.buffer, head.byteOffset).getUint32(12, true) : 0;
  if (end && sampleRate > 0 && Number(end.granule) / sampleRate > limitS) {
    return tooLong(
      limitS,
      `longer than ${limitS} s (${(Number(end.granule) / sampleRate).toFixed(2)} s by its last page)`,
    );
  }
  return decodeWith(() => new OggVorbisDecoder(), bytes, limitS);
}
