// The near-copy check of a photo against its campaign's earlier photos, as the campaign grows, three
// ways: by hash chunks (`hasNearCopy`, what screening runs), every earlier hash compared in Postgres
// (a scan), and every earlier hash read and compared in JS (what screening did first). Probes are
// half near copies of a stored photo (3 bits flipped), half unrelated hashes (the usual case). All
// three answers must agree on every probe. Prints each one's p50 and p99 per lookup.
// HASHES=scenes takes the hashes of synthetic pictures (bench/scenes.ts: skewed as real photos' are,
// so many share chunk values) instead of uniform random ones, and also prints how many candidates
// an unrelated photo's lookup meets and how many unrelated pictures have a near copy stored.
//   pnpm --filter @tessera/submissions bench:near-copy  (PHOTOS=1000,10000,100000 PROBES=200 HASHES=random)
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { resolvePostgres } from '@tessera/devstack';
import { migrateToLatest } from '@tessera/service-kit';
import { createTestDatabase, percentile } from '@tessera/service-kit/testing';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { SubmissionsDB } from '../src/db/schema.ts';
import { submissionsMigrations } from '../src/db/migrations.ts';
import { hammingDistance, NEAR_DUPLICATE_MAX_DISTANCE } from '../src/prevalidation/image.ts';
import { backfillPhotoHashChunks } from '../src/db/fraud-migrations.ts';
import { chunkProbes, hasNearCopy } from '../src/prevalidation/near-copy.ts';
import { perceptualHash } from '../src/prevalidation/image.ts';
import { scene, seeded } from './scenes.ts';
import { flipBits } from '../src/prevalidation/testing/hashes.ts';

const SIZES = (process.env.PHOTOS ?? '1000,10000,100000').split(',').map(Number);
const PROBES = Number(process.env.PROBES ?? 200);
const SCENES = process.env.HASHES === 'scenes';
if (!['scenes', 'random', undefined].includes(process.env.HASHES))
  throw new Error('HASHES: scenes or random');
const stored = seeded(1);
const fresh = seeded(2);
/** A hash of the kind the run stores: a synthetic picture's, or 64 random bits. */
const newHash = (random: () => number) =>
  SCENES ? perceptualHash(scene(random)) : randomBytes(8).toString('hex');

const postgres = await resolvePostgres({ containers: false });
const database = await createTestDatabase('bench_near_copy', { postgresUrl: postgres.url });
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
const db = new Kysely<SubmissionsDB>({ dialect: new PostgresDialect({ pool }) });
await migrateToLatest(db as unknown as Kysely<unknown>, submissionsMigrations);

const campaignId = randomUUID();
const companyId = randomUUID();

/** Every earlier hash of the campaign compared in Postgres, which stops at the first match. */
async function nearCopyScan(photo: { id: string; campaign_id: string }, hash: string): Promise<boolean> {
  const { rows } = await sql`
    select 1 from submissions
    where campaign_id = ${photo.campaign_id} and id <> ${photo.id} and perceptual_hash is not null
      and status <> 'rejected'
      and bit_count(('x' || perceptual_hash)::bit(64) # ('x' || ${hash})::bit(64)) <= ${NEAR_DUPLICATE_MAX_DISTANCE}
    limit 1`.execute(db);
  return rows.length > 0;
}

/** What screening did first: every earlier hash of the campaign, compared here. */
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

const ms = (values: number[], p: number) =>
  percentile(
    [...values].sort((a, b) => a - b),
    p,
  ).toFixed(2);
const log = (line: string) => process.stdout.write(`${line}\n`);

try {
  log(
    `   photos  probe       by chunks (now)   scan in Postgres   read, compared in JS   (ms per lookup, p50 / p99)`,
  );
  let storedCount = 0;
  for (const size of SIZES) {
    for (let from = storedCount; from < size; from += 10_000) {
      const hashes = Array.from({ length: Math.min(10_000, size - from) }, () => newHash(stored));
      await sql`
        insert into submissions (id, assignment_id, task_id, campaign_id, company_id, contributor_id,
          task_type, status, payload, time_spent_seconds, reward_amount, currency, xp_reward,
          submitted_at, created_at, updated_at, perceptual_hash)
        select gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), ${campaignId}, ${companyId},
          gen_random_uuid(), 'image', 'in_review', '{}', 60, 100, 'USD', 10, now(), now(), now(), hash
        from unnest(${hashes}::text[]) as hash`.execute(db);
    }
    storedCount = size;
    await backfillPhotoHashChunks(db as unknown as Kysely<unknown>);
    await sql`analyze submissions`.execute(db);
    await sql`analyze photo_hash_chunks`.execute(db);
    const sample = await db
      .selectFrom('submissions')
      .select('perceptual_hash')
      .where('campaign_id', '=', campaignId)
      .limit(PROBES)
      .execute();
    const probes = Array.from({ length: PROBES }, (_, i) =>
      i % 2 === 0 ? flipBits(sample[i % sample.length]!.perceptual_hash!, 3) : newHash(fresh),
    );
    // What an unrelated photo's lookup meets: the photos holding one of its chunk probes.
    const candidates: number[] = [];
    let unrelatedFound = 0;
    // Timed apart: a near copy can end a search early, an unrelated photo (the usual case) never.
    const ways = ['chunks', 'scan', 'read'] as const;
    const times = {
      copy: { chunks: [] as number[], scan: [] as number[], read: [] as number[] },
      unrelated: { chunks: [] as number[], scan: [] as number[], read: [] as number[] },
    };
    const check = { chunks: hasNearCopy.bind(null, db), scan: nearCopyScan, read: nearCopyRead };
    let found = 0;
    for (const [i, hash] of probes.entries()) {
      const kind = i % 2 === 0 ? times.copy : times.unrelated;
      const photo = { id: randomUUID(), campaign_id: campaignId };
      const answers: boolean[] = [];
      for (const way of ways) {
        const at = performance.now();
        answers.push(await check[way](photo, hash));
        kind[way].push(performance.now() - at);
      }
      if (new Set(answers).size !== 1)
        throw new Error(`the checks disagree on ${hash}: ${answers.join(', ')}`);
      if (answers[0]) found += 1;
      if (i % 2 === 1) {
        if (answers[0]) unrelatedFound += 1;
        const probe = chunkProbes(hash);
        const { rows } = await sql<{ n: string }>`
          select count(distinct submission_id) as n from photo_hash_chunks
          where campaign_id = ${campaignId}
            and (chunk, value) in (select * from unnest(${probe.chunk}::int[], ${probe.value}::int[]))`.execute(
          db,
        );
        candidates.push(Number(rows[0]!.n));
      }
    }
    const pair = (values: number[]) => `${ms(values, 0.5)} / ${ms(values, 0.99)}`.padStart(17);
    for (const [label, kind] of [
      ['unrelated', times.unrelated],
      ['near copy', times.copy],
    ] as const) {
      log(
        `${(label === 'unrelated' ? size.toLocaleString('en-US') : '').padStart(9)}  ${label.padEnd(10)}` +
          ways.map((way) => pair(kind[way])).join('  ') +
          (label === 'near copy' ? `   (${found} of ${PROBES} probes found one)` : ''),
      );
    }
    const sorted = [...candidates].sort((a, b) => a - b);
    log(
      `           an unrelated photo's lookup met ${percentile(sorted, 0.5)} candidates (p50), ${percentile(sorted, 0.99)} (p99); ` +
        `${unrelatedFound} of ${candidates.length} unrelated ${SCENES ? 'pictures' : 'hashes'} had a near copy stored`,
    );
  }
} finally {
  await db.destroy();
  await postgres.stop();
}
