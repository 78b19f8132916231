/**
 * WebM and Matroska with Opus audio (Chrome's and Edge's MediaRecorder: `audio/webm;codecs=opus`):
 * `mediabunny` (pure TypeScript) demuxes the primary audio track into packets, `opus-decoder`
 * decodes them (opus.ts). A video WebM is decoded for its audio track.
 *
 * The demuxer stops silently where a file is damaged or cut off, so the element structure is
 * walked here first (checkStructure): every element must be one that belongs where it is and
 * end within the file. MediaRecorder writes its files live (clusters of unknown size, no
 * duration, no cues), so a file cut exactly between two elements cannot be told from a whole
 * one, and decodes to the audio it holds; where the file states its duration, decoding to less
 * than that is refused too.
 */
import { BufferSource, EncodedPacketSink, Input, MATROSKA, WEBM } from 'mediabunny';
import { type AudioDecoding, PcmCollector, undecodable, unsupported } from './common.ts';
import { decodeOpusPackets, type OpusHead, parseOpusHead } from './opus.ts';

/** How far short of its stated duration a file may decode: a packet or two, and rounding. */
const DURATION_TOLERANCE_S = 0.25;

export async function decodeWebm(bytes: Uint8Array, limitS: number): Promise<AudioDecoding> {
  const damage = checkStructure(bytes);
  if (damage) return undecodable(`WebM: ${damage}`);
  const input = new Input({ source: new BufferSource(bytes), formats: [WEBM, MATROSKA] });
  try {
    let track;
    try {
      track = await input.getPrimaryAudioTrack();
    } catch (error) {
      return undecodable(`WebM: ${(error as Error).message}`);
    }
    if (!track) return undecodable('WebM: no audio track');
    const codec = await track.getCodec();
    if (codec !== 'opus') return unsupported(`WebM audio codec ${codec ?? 'unknown'}`);
    const head = await opusHeadOf(track);
    const collector = new PcmCollector(limitS);
    const packets = async function* () {
      for await (const packet of new EncodedPacketSink(track).packets()) yield packet.data;
    };
    const refusal = await decodeOpusPackets(head, packets(), collector);
    if (refusal) return refusal;
    const decoded = collector.finish();
    const stated = await input.getDurationFromMetadata();
    if (decoded.kind === 'audio' && stated !== null && decoded.durationS < stated - DURATION_TOLERANCE_S) {
      return undecodable(`WebM: ${decoded.durationS.toFixed(2)} s decoded of ${stated.toFixed(2)} s stated`);
    }
    return decoded;
  } finally {
    input.dispose();
  }
}

type AudioTrack = NonNullable<Awaited<ReturnType<Input['getPrimaryAudioTrack']>>>;

/**
 * The track's OpusHead (its CodecPrivate); a track without one is taken as a plain mono or
 * stereo stream, which is what the header would say.
 */
async function opusHeadOf(track: AudioTrack): Promise<OpusHead> {
  const config = await track.getDecoderConfig();
  const description = config?.description as ArrayBuffer | ArrayBufferView | undefined;
  const bytes =
    description === undefined
      ? undefined
      : ArrayBuffer.isView(description)
        ? new Uint8Array(description.buffer, description.byteOffset, description.byteLength)
        : new Uint8Array(description);
  const head = bytes && parseOpusHead(bytes);
  if (head) return head;
  const channels = Math.min(2, Math.max(1, await track.getNumberOfChannels()));
  return {
    channels,
    preSkip: 0,
    streamCount: 1,
    coupledStreamCount: channels - 1,
    channelMappingTable: channels === 1 ? [0] : [0, 1],
  };
}

/*
 * The element structure (EBML, RFC 8794; Matroska, RFC 9559). Only the containers are walked:
 * the EBML header and Segment at the top, the Segment's children, and each Cluster's children;
 * everything else is skipped by its size.
 */

const EBML = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const VOID = 0xec;
const CRC32 = 0xbf;
/** The Segment's children: SeekHead, Info, Tracks, Cluster, Cues, Attachments, Chapters, Tags. */
const SEGMENT_CHILDREN = new Set([
  0x114d9b74,
  0x1549a966,
  0x1654ae6b,
  CLUSTER,
  0x1c53bb6b,
  0x1941a469,
  0x1043a770,
  0x1254c367,
  VOID,
  CRC32,
]);
/** A Cluster's children: Timestamp, SilentTracks, Position, PrevSize, SimpleBlock, BlockGroup, EncryptedBlock. */
const CLUSTER_CHILDREN = new Set([0xe7, 0x5854, 0xa7, 0xab, 0xa3, 0xa0, 0xaf, VOID, CRC32]);

interface ElementHeader {
  id: number;
  /** null: unknown size (the element runs until its parent ends or a sibling starts). */
  size: number | null;
  /** Where the element's data starts. */
  dataStart: number;
}

/** The element header at `offset`, or null when the bytes there cannot be one (or are cut off). */
function elementHeader(bytes: Uint8Array, offset: number): ElementHeader | null {
  const first = bytes[offset];
  if (first === undefined || first === 0) return null;
  const idLength = Math.clz32(first) - 23;
  if (idLength > 4 || offset + idLength >= bytes.length) return null;
  let id = 0;
  for (let i = 0; i < idLength; i++) id = id * 256 + bytes[offset + i]!;
  const sizeFirst = bytes[offset + idLength]!;
  if (sizeFirst === 0) return null;
  const sizeLength = Math.clz32(sizeFirst) - 23;
  if (offset + idLength + sizeLength > bytes.length) return null;
  let size = sizeFirst & (0xff >> sizeLength);
  let allOnes = size === 0xff >> sizeLength;
  for (let i = 1; i < sizeLength; i++) {
    const byte = bytes[offset + idLength + i]!;
    size = size * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  return { id, size: allOnes ? null : size, dataStart: offset + idLength + sizeLength };
}

/** Why the element structure is not whole, or null when it is. */
export function checkStructure(bytes: Uint8Array): string | null {
  let offset = 0;
  let sawSegment = false;
  while (offset < bytes.length) {
    const top = elementHeader(bytes, offset);
    if (!top) return `no element at byte ${offset}`;
    if (top.id !== EBML && top.id !== SEGMENT && top.id !== VOID)
      return `unexpected element at byte ${offset}`;
    const end = top.size === null ? bytes.length : top.dataStart + top.size;
    if (end > bytes.length) return `cut off in the element at byte ${offset}`;
    if (top.size === null && top.id !== SEGMENT) return `element of unknown size at byte ${offset}`;
    if (top.id === SEGMENT) {
      sawSegment = true;
      const damage = checkChildren(bytes, top.dataStart, end, SEGMENT_CHILDREN, null, true);
      if (damage) return damage;
    }
    offset = end;
  }
  return sawSegment ? null : 'no Segment';
}

/**
 * Walks the children of an element from `start` to `end`. With `siblings`, the parent is of
 * unknown size and ends where one of its siblings starts. Returns why it is damaged, or null.
 */
function checkChildren(
  bytes: Uint8Array,
  start: number,
  end: number,
  allowed: ReadonlySet<number>,
  siblings: ReadonlySet<number> | null,
  inSegment: boolean,
): string | null {
  let offset = start;
  while (offset < end) {
    const child = elementHeader(bytes, offset);
    if (!child)
      return end === bytes.length ? `cut off or damaged at byte ${offset}` : `no element at byte ${offset}`;
    if (siblings?.has(child.id) && !(child.id === VOID || child.id === CRC32)) return null;
    if (!allowed.has(child.id)) return `unexpected element at byte ${offset}`;
    if (child.size === null) {
      if (!(inSegment && child.id === CLUSTER)) return `element of unknown size at byte ${offset}`;
      const damage = checkChildren(bytes, child.dataStart, end, CLUSTER_CHILDREN, SEGMENT_CHILDREN, false);
      if (damage) return damage;
      // The cluster ran until the next of its siblings (or the end): find where that is.
      offset = clusterEnd(bytes, child.dataStart, end);
      continue;
    }
    const childEnd = child.dataStart + child.size;
    if (childEnd > end) return `cut off in the element at byte ${offset}`;
    if (inSegment && child.id === CLUSTER) {
      const damage = checkChildren(bytes, child.dataStart, childEnd, CLUSTER_CHILDREN, null, false);
      if (damage) return damage;
    }
    offset = childEnd;
  }
  return null;
}

/** Where a cluster of unknown size ends: at the first Segment child after its own children. */
function clusterEnd(bytes: Uint8Array, start: number, end: number): number {
  let offset = start;
  while (offset < end) {
    const child = elementHeader(bytes, offset)!;
    if (SEGMENT_CHILDREN.has(child.id) && !(child.id === VOID || child.id === CRC32)) return offset;
    offset = child.dataStart + child.size!;
  }
  return end;
}
