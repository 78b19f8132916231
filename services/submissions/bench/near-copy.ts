// The near-copy check of a photo against its campaign's earlier photos, as the campaign grows: the
// distance counted in Postgres (`hasNearCopy`, what screening runs) against reading every earlier
// hash and comparing in JS (what screening did before). Probes are half near copies of a stored
// photo (3 bits flipped), half unrelated hashes (the usual case: every row is read). Both answers
// must agree on every probe. Prints each one's p50 and p99 per lookup.
//   pnpm --filter @tessera/submissions bench:near-copy      (PHOTOS=1000,10000,100000 PROBES=200)
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { resolvePostgres } from '@tessera/devstack';
import { migrateToLatest } from '@tessera/service-kit';
import { percentile } from '@tessera/service-kit/testing';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { SubmissionsDB } from '../src/db/schema.ts';
import { submissionsMigrations } from '../src/db/migrations.ts';
import { hammingDistance, NEAR_DUPLICATE_MAX_DISTANCE } from '../src/prevalidation/image.ts';
import { hasNearCopy } from '../src/prevalidation/near-copy.ts';

const SIZES = (process.env.PHOTOS ?? '1000,10000,100000').split(',').map(Number);
const PROBES = Number(process.env.PROBES ?? 200);

const postgres = await resolvePostgres({ containers: false });
const url = new URL(postgres.url);
url.pathname = `/bench_near_copy_${Date.now()}`;
const admin = new pg.Client({ connectionString: postgres.url });
await admin.connect();
await admin.query(`create database "${url.pathname.slice(1)}"`);
await admin.end();
const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
const db = new Kysely<SubmissionsDB>({ dialect: new PostgresDialect({ pool }) });
await migrateToLatest(db as unknown as Kysely<unknown>, submissionsMigrations);

const campaignId = randomUUID();
const companyId = randomUUID();

/** What screening did before: every earlier hash of the campaign, compared here. */
async function nearCopyRead(photo: { id: string; campaign_id: string }, hash: string): Promise<boolean> {
  const earlier = await db
    .selectFrom('submissions')
    .select(['id', 'perceptual_hash'])
    .where('campaign_id', '=', photo.campaign_id)
    .where('id', '!=', photo.id)
    .where('perceptual_hash', 'is not', null)
    .where('status', '!=', 'rejected')
    .execute();
  return earlier.some((e) => hammingDistance(hash, e.perceptual_hash!) <= NEAR_DUPLICATE_MAX_DISTANCE);
}

function flipBits(hash: string, bits: number): string {
  let value = BigInt(`0x${hash}`);
  const flipped = new Set<number>();
  while (flipped.size < bits) flipped.add(randomInt(64));
  for (const bit of flipped) value ^= 1n << BigInt(bit);
  return value.toString(16).padStart(16, '0');
}

const ms = (values: number[], p: number) =>
  percentile(
    [...values].sort((a, b) => a - b),
    p,
  ).toFixed(2);
const log = (line: string) => process.stdout.write(`${line}\n`);

try {
  log(`   photos  probe       in Postgres ms   read, compared ms   (p50 / p99 per lookup)`);
  let stored = 0;
  for (const size of SIZES) {
    await sql`
      insert into submissions (id, assignment_id, task_id, campaign_id, company_id, contributor_id,
        task_type, status, payload, time_spent_seconds, reward_amount, currency, xp_reward,
        submitted_at, created_at, updated_at, perceptual_hash)
      select gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), ${campaignId}, ${companyId},
        gen_random_uuid(), 'image', 'in_review', '{}', 60, 100, 'USD', 10, now(), now(), now(),
        substr(md5(random()::text || i::text), 1, 16)
      from generate_series(1, ${size - stored}) as i`.execute(db);
    stored = size;
    await sql`analyze submissions`.execute(db);
    const sample = await db
      .selectFrom('submissions')
      .select('perceptual_hash')
      .where('campaign_id', '=', campaignId)
      .limit(PROBES)
      .execute();
    const probes = Array.from({ length: PROBES }, (_, i) =>
      i % 2 === 0 ? flipBits(sample[i % sample.length]!.perceptual_hash!, 3) : randomBytes(8).toString('hex'),
    );
    // Timed apart: a near copy can end the search early, an unrelated photo (the usual case) never.
    const times = {
      copy: { pg: [] as number[], read: [] as number[] },
      unrelated: { pg: [] as number[], read: [] as number[] },
    };
    let found = 0;
    for (const [i, hash] of probes.entries()) {
      const kind = i % 2 === 0 ? times.copy : times.unrelated;
      const photo = { id: randomUUID(), campaign_id: campaignId };
      let at = performance.now();
      const a = await hasNearCopy(db, photo, hash);
      kind.pg.push(performance.now() - at);
      at = performance.now();
      const b = await nearCopyRead(photo, hash);
      kind.read.push(performance.now() - at);
      if (a !== b) throw new Error(`the two checks disagree on ${hash}: ${a} in Postgres, ${b} read`);
      if (a) found += 1;
    }
    const pair = (values: number[]) => `${ms(values, 0.5)} / ${ms(values, 0.99)}`;
    log(
      `${size.toLocaleString('en-US').padStart(9)}  ${'unrelated'.padEnd(10)} ${pair(times.unrelated.pg).padStart(18)}   ${pair(times.unrelated.read).padStart(18)}`,
    );
    log(
      `${''.padStart(9)}  ${'near copy'.padEnd(10)} ${pair(times.copy.pg).padStart(18)}   ${pair(times.copy.read).padStart(18)}   (${found} of ${PROBES} probes found a near copy)`,
    );
  }
} finally {
  await db.destroy();
  await postgres.stop();
}
