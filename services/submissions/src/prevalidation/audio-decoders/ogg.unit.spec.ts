import { describe, expect, it } from 'vitest';
import { damaged, oggOpus, oggVorbis, rms, tone } from '../testing/encoded-audio.ts';
import { speechLike } from '../testing/fixtures.ts';
import { decodeOgg } from './ogg.ts';

const LIMIT = 600;

describe('decoding Ogg', () => {
  it('decodes Opus at 48 kHz whatever rate it was encoded from, trimmed to its last granule', async () => {
    for (const sampleRate of [16_000, 48_000] as const) {
      const audio = await decodeOgg(await oggOpus([tone({ seconds: 2, sampleRate })], sampleRate), LIMIT);
      expect(audio).toMatchObject({ kind: 'audio', sampleRate: 48_000 });
      if (audio.kind !== 'audio') return;
      // The encoder's 6.5 ms look-ahead is dropped at the start (pre-skip).
      expect(audio.durationS).toBeCloseTo(2 - 312 / 48_000, 3);
      expect(rms(audio.channels[0]!)).toBeGreaterThan(0.2);
    }
  });

  it('decodes Vorbis', async () => {
    const audio = await decodeOgg(await oggVorbis([tone({ seconds: 2, sampleRate: 22_050 })], 22_050), LIMIT);
    expect(audio).toMatchObject({ kind: 'audio', sampleRate: 22_050, durationS: 2 });
  });

  it('refuses a file cut off mid-page, or with any byte of a page changed (CRC)', async () => {
    for (const bytes of [
      await oggOpus([speechLike({ seconds: 4, sampleRate: 48_000 })]),
      await oggVorbis([speechLike({ seconds: 4 })], 16_000),
    ]) {
      const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
      expect(await decodeOgg(cut, LIMIT)).toMatchObject({
        reason: 'AUDIO_UNDECODABLE',
        detail: expect.stringContaining('cut off'),
      });
      const flipped = new Uint8Array(bytes);
      flipped[bytes.length - 100]! ^= 0x01;
      expect(await decodeOgg(flipped, LIMIT)).toMatchObject({
        reason: 'AUDIO_UNDECODABLE',
        detail: expect.stringContaining('CRC'),
      });
      expect(await decodeOgg(damaged(bytes, bytes.length >> 1), LIMIT)).toMatchObject({
        reason: 'AUDIO_UNDECODABLE',
      });
      const trailing = Buffer.concat([bytes, Buffer.from('junk after the last page')]);
      expect(await decodeOgg(trailing, LIMIT)).toMatchObject({ reason: 'AUDIO_UNDECODABLE' });
    }
  });

  it('decodes a file that ends cleanly after a whole page for the audio it holds', async () => {
    const bytes = await oggOpus([speechLike({ seconds: 4, sampleRate: 48_000 })]);
    // The second page of audio ends where the third starts.
    const pages = [...Buffer.from(bytes).toString('latin1').matchAll(/OggS/g)].map((m) => m.index);
    expect(pages.length).toBeGreaterThan(3);
    const audio = await decodeOgg(bytes.subarray(0, pages[3]), LIMIT);
    expect(audio.kind).toBe('audio');
    if (audio.kind === 'audio') expect(audio.durationS).toBeLessThan(4);
  });

  it('answers AUDIO_FORMAT_UNSUPPORTED for an Ogg stream of another codec', async () => {
    const bytes = new Uint8Array(await oggOpus([tone({ seconds: 1, sampleRate: 48_000 })]));
    // Rewrite the first packet's magic to Speex's and fix the page CRC.
    const speex = withFirstPacket(bytes, 'Speex   ');
    expect(await decodeOgg(speex, LIMIT)).toMatchObject({ reason: 'AUDIO_FORMAT_UNSUPPORTED' });
  });

  it('refuses a stream longer than the limit by its last page, before decoding it', async () => {
    const bytes = await oggOpus([speechLike({ seconds: 6, sampleRate: 48_000 })]);
    expect(await decodeOgg(bytes, 5)).toMatchObject({
      kind: 'too-long',
      detail: expect.stringContaining('by its last page'),
    });
  });
});

/** `bytes` with the first 8 bytes of its first packet replaced, and that page's CRC made right. */
function withFirstPacket(bytes: Uint8Array, magic: string): Uint8Array {
  const out = new Uint8Array(bytes);
  const bodyStart = 27 + out[26]!;
  out.set(Buffer.from(magic, 'latin1'), bodyStart);
  const pageEnd = bodyStart + out.subarray(27, bodyStart).reduce((a, b) => a + b, 0);
  out.fill(0, 22, 26);
  new DataView(out.buffer).setUint32(22, oggCrc(out.subarray(0, pageEnd)), true);
  return out;
}

/** The Ogg CRC-32, bit by bit: independent of the table-driven one under test. */
function oggCrc(bytes: Uint8Array): number {
  let value = 0;
  for (const byte of bytes) {
    value ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) value = value & 0x80000000 ? (value << 1) ^ 0x04c11db7 : value << 1;
    value >>>= 0;
  }
  return value;
}
