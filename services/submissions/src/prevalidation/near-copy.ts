import { type Kysely, sql } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import { NEAR_DUPLICATE_MAX_DISTANCE } from './image.ts';

/**
 * Near copies of a photo without reading every photo of its campaign (multi-index hashing): each
 * stored hash is also kept as its four 16-bit chunks (`photo_hash_chunks`). Two hashes within 10
 * bits of each other differ by at most 2 bits in at least one chunk (were every chunk 3 bits or
 * more apart, they would be 12 apart), so the only candidates are the photos holding, in some chunk,
 * a value within 2 bits of the new photo's: 4 × 137 index probes, whatever the campaign's size.
 * Each candidate's whole hash, kept in the index, is then compared in Postgres (`bit_count` of the
 * XOR, the count `hammingDistance` gives).
 */
export const HASH_CHUNKS = 4;
const CHUNK_BITS = 16;

/** The hash's chunks, most significant first: 16 hex digits, 4 at a time. */
export function chunksOf(hash: string): number[] {
  return Array.from({ length: HASH_CHUNKS }, (_, i) => parseInt(hash.slice(4 * i, 4 * i + 4), 16));
}

/**
 * Every (chunk, value) a hash within `maxDistance` bits of `hash` must hold in at least one chunk:
 * each chunk's value and all values within floor(maxDistance / 4) bits of it.
 */
export function chunkProbes(
  hash: string,
  maxDistance = NEAR_DUPLICATE_MAX_DISTANCE,
): { chunk: number[]; value: number[] } {
  const radius = Math.floor(maxDistance / HASH_CHUNKS);
  const chunk: number[] = [];
  const value: number[] = [];
  for (const [index, exact] of chunksOf(hash).entries()) {
    for (const near of withinBits(exact, radius)) {
      chunk.push(index);
      value.push(near);
    }
  }
  return { chunk, value };
}

/** Every 16-bit value at most `radius` bits from `value`, each once. */
function withinBits(value: number, radius: number): number[] {
  let found = [value];
  let frontier = [value];
  const seen = new Set(found);
  for (let step = 0; step < radius; step++) {
    const next: number[] = [];
    for (const from of frontier) {
      for (let bit = 0; bit < CHUNK_BITS; bit++) {
        const flipped = from ^ (1 << bit);
        if (!seen.has(flipped)) {
          seen.add(flipped);
          next.push(flipped);
        }
      }
    }
    found = found.concat(next);
    frontier = next;
  }
  return found;
}

/**
 * Records the chunks of the photo's new hash (or that it has none: a revision that is not a
 * decodable photo) in the caller's transaction, in place of those of the hash stored before
 * (`photo.perceptual_hash`, null the first time).
 */
export async function storePhotoHash(
  db: Kysely<SubmissionsDB>,
  photo: { id: string; campaign_id: string; perceptual_hash: string | null },
  hash: string | null,
): Promise<void> {
  if (hash === photo.perceptual_hash) return;
  if (photo.perceptual_hash !== null) {
    await db.deleteFrom('photo_hash_chunks').where('submission_id', '=', photo.id).execute();
  }
  if (hash === null) return;
  await db
    .insertInto('photo_hash_chunks')
    .values(
      chunksOf(hash).map((value, chunk) => ({
        campaign_id: photo.campaign_id,
        chunk,
        value,
        submission_id: photo.id,
        hash,
      })),
    )
    .execute();
}

/**
 * Whether another photo of the campaign (not rejected) has a perceptual hash within `maxDistance`
 * bits of `hash`; it stops at the first.
 */
export async function hasNearCopy(
  db: Kysely<SubmissionsDB>,
  photo: { id: string; campaign_id: string },
  hash: string,
  maxDistance = NEAR_DUPLICATE_MAX_DISTANCE,
): Promise<boolean> {
  const probes = chunkProbes(hash, maxDistance);
  // One index probe per (chunk, value), each comparing the whole hashes it finds there; `offset 0`
  // keeps the planner from turning the probes into one hash join over every chunk of the campaign.
  const { rows } = await sql<{ found: number }>`
    select 1 as found
    from unnest(${probes.chunk}::smallint[], ${probes.value}::int[]) as p(chunk, value)
    cross join lateral (
      select c.submission_id from photo_hash_chunks as c
      where c.campaign_id = ${photo.campaign_id} and c.chunk = p.chunk and c.value = p.value
        and c.submission_id <> ${photo.id}
        and bit_count(('x' || c.hash)::bit(64) # ('x' || ${hash})::bit(64)) <= ${maxDistance}
      offset 0
    ) as near
    join submissions as s on s.id = near.submission_id
    where s.status <> 'rejected'
    limit 1`.execute(db);
  return rows.length > 0;
}
