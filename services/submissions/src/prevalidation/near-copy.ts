import { type Kysely, sql } from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';
import { NEAR_DUPLICATE_MAX_DISTANCE } from './image.ts';

/**
 * Whether another photo of the campaign (not rejected) has a perceptual hash within `maxDistance`
 * bits of `hash`. The distance is counted in Postgres (`bit_count` of the XOR of the two hashes read
 * as 64 bits, the same count as `hammingDistance`), which stops at the first match: only the
 * answer crosses the wire, not every earlier hash of the campaign. It still reads each of them, so
 * its cost grows with the campaign's photos (`bench:near-copy`).
 */
export async function hasNearCopy(
  db: Kysely<SubmissionsDB>,
  photo: { id: string; campaign_id: string },
  hash: string,
  maxDistance = NEAR_DUPLICATE_MAX_DISTANCE,
): Promise<boolean> {
  const { rows } = await sql<{ found: number }>`
    select 1 as found from submissions
    where campaign_id = ${photo.campaign_id}
      and id <> ${photo.id}
      and perceptual_hash is not null
      and status <> 'rejected'
      and bit_count(('x' || perceptual_hash)::bit(64) # ('x' || ${hash})::bit(64)) <= ${maxDistance}
    limit 1`.execute(db);
  return rows.length > 0;
}
