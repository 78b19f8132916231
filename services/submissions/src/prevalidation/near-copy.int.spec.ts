import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submissionsWorkers } from '../service.ts';
import { startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { hammingDistance } from './image.ts';
import { hasNearCopy } from './near-copy.ts';

// The near-copy check counts bits in Postgres; it must count them as hammingDistance does.

let t: TestSubmissions;

beforeAll(async () => {
  t = await startTestSubmissions({}, { workers: { [submissionsWorkers.prevalidation]: false } });
});

afterAll(async () => {
  await t?.stop();
});

function flipBits(hash: string, bits: number): string {
  let value = BigInt(`0x${hash}`);
  const flipped = new Set<number>();
  while (flipped.size < bits) flipped.add(randomInt(64));
  for (const bit of flipped) value ^= 1n << BigInt(bit);
  return value.toString(16).padStart(16, '0');
}

/** A photo's row as screening leaves it: its perceptual hash stored. */
async function photo(campaignId: string, hash: string, status = 'in_review'): Promise<string> {
  const id = randomUUID();
  await sql`
    insert into submissions (id, assignment_id, task_id, campaign_id, company_id, contributor_id,
      task_type, status, payload, time_spent_seconds, reward_amount, currency, xp_reward,
      submitted_at, created_at, updated_at, perceptual_hash)
    values (${id}, ${randomUUID()}, ${randomUUID()}, ${campaignId}, ${randomUUID()}, ${randomUUID()},
      'image', ${status}, '{}', 60, 100, 'USD', 10, now(), now(), now(), ${hash})`.execute(t.service.db);
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
});
