import { randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submissionsWorkers } from '../service.ts';
import { startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { hammingDistance } from './image.ts';
import { backfillPhotoHashChunks } from '../db/fraud-migrations.ts';
import { hasNearCopy, storePhotoHash } from './near-copy.ts';
import { flipBits } from './testing/hashes.ts';

// The near-copy check counts bits in Postgres; it must count them as hammingDistance does.

let t: TestSubmissions;

beforeAll(async () => {
  t = await startTestSubmissions({}, { workers: { [submissionsWorkers.prevalidation]: false } });
});

afterAll(async () => {
  await t?.stop();
});

/** A photo's submission row with its perceptual hash, as screening before 0016 left it (no chunks). */
async function photoRow(campaignId: string, hash: string, status = 'in_review'): Promise<string> {
  const id = randomUUID();
  await sql`
    insert into submissions (id, assignment_id, task_id, campaign_id, company_id, contributor_id,
      task_type, status, payload, time_spent_seconds, reward_amount, currency, xp_reward,
      submitted_at, created_at, updated_at, perceptual_hash)
    values (${id}, ${randomUUID()}, ${randomUUID()}, ${campaignId}, ${randomUUID()}, ${randomUUID()},
      'image', ${status}, '{}', 60, 100, 'USD', 10, now(), now(), now(), ${hash})`.execute(t.service.db);
  return id;
}

/** A photo as screening leaves it now: its hash stored, with its chunks. */
async function photo(campaignId: string, hash: string, status = 'in_review'): Promise<string> {
  const id = await photoRow(campaignId, hash, status);
  await storePhotoHash(t.service.db, { id, campaign_id: campaignId, perceptual_hash: null }, hash);
  return id;
}

describe('near copies of a photo, found in Postgres', () => {
  it('counts the differing bits exactly as hammingDistance does', async () => {
    const pairs = Array.from({ length: 300 }, (_, i) => {
      const a = randomBytes(8).toString('hex');
      return [a, flipBits(a, i % 65)] as const;
    });
    const { rows } = await sql<{ distance: number }>`
      select bit_count(('x' || a)::bit(64) # ('x' || b)::bit(64))::int as distance
      from unnest(${pairs.map(([a]) => a)}::text[], ${pairs.map(([, b]) => b)}::text[]) with ordinality as p(a, b, n)
      order by n`.execute(t.service.db);
    expect(rows.map((row) => row.distance)).toEqual(pairs.map(([a, b]) => hammingDistance(a, b)));
    expect(new Set(rows.map((row) => row.distance)).size).toBe(65);
  });

  it('finds a photo of the campaign within 10 bits, not at 11, not itself, not a rejected one, not another campaign’s', async () => {
    const campaign = randomUUID();
    const hash = randomBytes(8).toString('hex');
    const stored = await photo(campaign, hash);
    const rejected = randomBytes(8).toString('hex');
    await photo(campaign, rejected, 'rejected');
    const newcomer = { id: randomUUID(), campaign_id: campaign };

    expect(await hasNearCopy(t.service.db, newcomer, hash)).toBe(true);
    expect(await hasNearCopy(t.service.db, newcomer, flipBits(hash, 10))).toBe(true);
    expect(await hasNearCopy(t.service.db, newcomer, flipBits(hash, 11))).toBe(false);
    expect(await hasNearCopy(t.service.db, { id: stored, campaign_id: campaign }, hash)).toBe(false);
    expect(await hasNearCopy(t.service.db, newcomer, rejected)).toBe(false);
    expect(await hasNearCopy(t.service.db, { id: randomUUID(), campaign_id: randomUUID() }, hash)).toBe(
      false,
    );
  });

  it('finds every photo within 10 bits, wherever the bits differ, and none further', async () => {
    const campaign = randomUUID();
    const stored = Array.from({ length: 20 }, () => randomBytes(8).toString('hex'));
    for (const hash of stored) await photo(campaign, hash);
    const newcomer = { id: randomUUID(), campaign_id: campaign };
    for (let i = 0; i < 300; i++) {
      const near = i % 11;
      const probe = flipBits(stored[i % stored.length]!, near);
      expect(await hasNearCopy(t.service.db, newcomer, probe), `${near} bits`).toBe(true);
    }
    // Further from the photo it came from; the answer is whether any of the twenty is within 10.
    for (let i = 0; i < 50; i++) {
      const far = flipBits(stored[i % stored.length]!, 11 + (i % 20));
      const closest = Math.min(...stored.map((hash) => hammingDistance(hash, far)));
      expect(await hasNearCopy(t.service.db, newcomer, far)).toBe(closest <= 10);
    }
  });

  it('keeps one set of chunks per photo: a revision replaces or drops its hash', async () => {
    const campaign = randomUUID();
    const first = randomBytes(8).toString('hex');
    const id = await photo(campaign, first);
    const newcomer = { id: randomUUID(), campaign_id: campaign };
    const revised = randomBytes(8).toString('hex');
    await sql`update submissions set perceptual_hash = ${revised} where id = ${id}`.execute(t.service.db);
    await storePhotoHash(t.service.db, { id, campaign_id: campaign, perceptual_hash: first }, revised);
    expect(await hasNearCopy(t.service.db, newcomer, revised)).toBe(true);
    expect(await hasNearCopy(t.service.db, newcomer, first)).toBe(false);
    await storePhotoHash(t.service.db, { id, campaign_id: campaign, perceptual_hash: revised }, null);
    expect(await hasNearCopy(t.service.db, newcomer, revised)).toBe(false);
    const chunks = await t.service.db
      .selectFrom('photo_hash_chunks')
      .select('chunk')
      .where('submission_id', '=', id)
      .execute();
    expect(chunks).toEqual([]);
  });

  it('gives photos screened before the chunks existed theirs (migration 0016)', async () => {
    const campaign = randomUUID();
    const hash = randomBytes(8).toString('hex');
    const id = await photoRow(campaign, hash);
    const newcomer = { id: randomUUID(), campaign_id: campaign };
    expect(await hasNearCopy(t.service.db, newcomer, hash)).toBe(false);

    await backfillPhotoHashChunks(t.service.db as unknown as Kysely<unknown>);
    expect(await hasNearCopy(t.service.db, newcomer, flipBits(hash, 10))).toBe(true);
    const chunks = await t.service.db
      .selectFrom('photo_hash_chunks')
      .select(['chunk', 'value'])
      .where('submission_id', '=', id)
      .orderBy('chunk')
      .execute();
    expect(chunks.map((c) => c.value)).toEqual(
      [0, 1, 2, 3].map((i) => parseInt(hash.slice(4 * i, 4 * i + 4), 16)),
    );
  });
});
