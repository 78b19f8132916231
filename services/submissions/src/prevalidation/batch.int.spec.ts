import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreignEvent, waitFor } from '@tessera/service-kit/testing';
import { consumerNames } from '../messaging/consumers.ts';
import { submissionsWorkers } from '../service.ts';
import { countingReads } from '../testing/counting-reads.ts';
import { type ClaimFixture, startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { MAX_SCREENING_ATTEMPTS, SCREENING_RETRY_DELAYS_MS } from './decide.ts';
import { screenWaiting } from './handle.ts';
import { sentences, wavs } from './testing/fixtures.ts';
import { handIn as handInAs, screeningDeps, textInput } from './testing/screening.ts';

// Waiting hand-ins are screened in batches, one transaction each. This file screens by hand (the
// periodic worker is off), so each test sees exactly the hand-ins it made.

let t: TestSubmissions;

beforeAll(async () => {
  t = await startTestSubmissions({}, { workers: { [submissionsWorkers.prevalidation]: false } });
});

afterAll(async () => {
  await t?.stop();
});

const deps = () => screeningDeps(t);

const handIn = (claim: ClaimFixture, work: string | { media_id: string }) => handInAs(t, claim, work);

async function rows(ids: string[]) {
  const found = await t.service.db
    .selectFrom('submissions')
    .select([
      'id',
      'status',
      'reason_codes',
      'screening_attempts',
      'screening_retry_at',
      sql<string>`xmin::text`.as('xmin'),
    ])
    .where('id', 'in', ids)
    .execute();
  return ids.map((id) => found.find((row) => row.id === id)!);
}

/** A gauge of the service's, as Prometheus would scrape it. */
async function gauge(name: string): Promise<number> {
  const text = (await t.service.app.inject({ url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return Number(line?.split(' ').at(-1));
}

/** The sessions waiting for an advisory lock, once there is one (5 s at most), seen from `watcher`. */
async function lockWaiters(watcher: pg.Client): Promise<number[]> {
  const waiting = async () =>
    (
      await watcher.query<{ pid: number }>(
        `select pid from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock'
           and query like '%pg_advisory_xact_lock%'`,
      )
    ).rows.map((row) => row.pid);
  let pids = await waiting();
  for (let i = 0; pids.length === 0 && i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    pids = await waiting();
  }
  return pids;
}

/**
 * Runs `body` with two sessions of our own: `holder` to take locks the screening meets, `watcher` to
 * see it wait (inside the holder's transaction, pg_stat_activity would not change).
 */
async function withSessions(body: (holder: pg.Client, watcher: pg.Client) => Promise<void>): Promise<void> {
  const holder = new pg.Client({ connectionString: t.config.DATABASE_URL });
  const watcher = new pg.Client({ connectionString: t.config.DATABASE_URL });
  await holder.connect();
  await watcher.connect();
  try {
    await body(holder, watcher);
  } finally {
    await holder.end();
    await watcher.end();
  }
}

describe('screening in batches', () => {
  it('screens several hand-ins in one transaction, and the later of two copies in it is the one refused', async () => {
    const task = await t.fixtures.task('text', textInput);
    const [first, copy] = await Promise.all([t.fixtures.claim(task), t.fixtures.claim(task)]);
    const other = await t.fixtures.claimed('text', textInput);
    const text = `${sentences.en} The copies of one batch.`;
    const original = await handIn(first, text);
    const later = await handIn(copy, text.replaceAll(' ', '  '));
    const elsewhere = await handIn(other, `${sentences.en} Nothing like the others.`);

    expect(await screenWaiting(deps(), 20)).toBe(3);

    const [a, b, c] = await rows([original, later, elsewhere]);
    expect([a!.status, b!.status, c!.status]).toEqual(['in_review', 'rejected', 'in_review']);
    expect(b!.reason_codes).toContain('TEXT_DUPLICATE');
    // Rows written by one transaction carry its id.
    expect(new Set([a!.xmin, b!.xmin, c!.xmin]).size).toBe(1);
  });

  it("reads a batch's tasks, media and claims once for the batch, and announces each pass with its own claim's terms", async () => {
    const task = await t.fixtures.task('text', textInput);
    const claims = await Promise.all([t.fixtures.claim(task), t.fixtures.claim(task)]);
    const other = await t.fixtures.claimed('text', textInput);
    const ids = [
      await handIn(claims[0], `${sentences.en} The first of one batch.`),
      await handIn(claims[1], `${sentences.en} The second, another text altogether.`),
      await handIn(other, `${sentences.en} A third, in another campaign.`),
    ];
    const { db, reads } = countingReads(t.service.db);
    expect(await screenWaiting({ ...deps(), db }, 20)).toBe(3);
    expect((await rows(ids)).map((row) => row.status)).toEqual(['in_review', 'in_review', 'in_review']);
    expect([reads('task_views'), reads('media'), reads('claims')]).toEqual([1, 1, 1]);
    const announced = await t.service.db
      .selectFrom('outbox')
      .select(['subject', 'position', 'payload'])
      .where('type', '=', 'submissions.submission.validated.v1')
      .where('subject', 'in', ids)
      .orderBy('position')
      .execute();
    expect(announced.map((event) => event.subject).sort()).toEqual([...ids].sort());
    // Each carries its own claim's judging terms and its task's company, though read for the batch.
    for (const event of announced) {
      const { data } = event.payload as {
        data: { assignment_id: string; company_id: string; judge_fee: unknown; max_judges: number };
      };
      const claim = [...claims, other].find((c) => c.assignmentId === data.assignment_id)!;
      expect(data.company_id).toBe(claim.companyId);
      expect([data.judge_fee, data.max_judges]).toEqual([{ amount: 12, currency: 'USD' }, 4]);
    }
  });

  it('counts no attempt against a hand-in when Postgres rolls its screening back for a deadlock', async () => {
    const claim = await t.fixtures.claimed('text', textInput);
    const id = await handIn(claim, `${sentences.en} Screened while another session crosses it.`);
    // Another session takes the campaign's screening lock, waits until the screening (holding the
    // hand-in's row) waits on it, then asks for that row: a deadlock. Its own deadlock_timeout is
    // long, so the screening's backend (1 s) is the one that detects it and is rolled back.
    await withSessions(async (holder, watcher) => {
      await holder.query(`set deadlock_timeout = '30s'`);
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `screening:${claim.campaignId}`,
      ]);
      const screening = screenWaiting(deps(), 20, 1);
      expect(await lockWaiters(watcher)).toHaveLength(1);
      const crossing = holder.query('select id from submissions where id = $1 for update', [id]);
      await expect(screening).rejects.toThrow(/deadlock/);
      await crossing;
      await holder.query('rollback');
    });
    let [row] = await rows([id]);
    expect([row!.status, row!.screening_attempts]).toEqual(['received', 0]);

    expect(await screenWaiting(deps(), 20)).toBe(1);
    [row] = await rows([id]);
    expect([row!.status, row!.screening_attempts]).toEqual(['in_review', 0]);
  });

  it("takes a first hand-in's contributor's lock with its campaigns', before screening any of its batch", async () => {
    // Fraud flags of some signals are stored once per contributor and day: two instances' batches
    // must not each hold a campaign and wait crosswise on such a flag. So a batch waits for every
    // lock it needs up front, its contributors' included, holding nothing of its own work yet.
    const elsewhere = await t.fixtures.claimed('text', textInput);
    const other = await handIn(elsewhere, `${sentences.en} Another contributor, another campaign.`);
    const claim = await t.fixtures.claimed('text', textInput);
    const id = await handIn(claim, `${sentences.en} Screened once the contributor is free.`);
    await withSessions(async (holder, watcher) => {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `screening-fraud:${claim.contributorId}`,
      ]);
      const screening = screenWaiting(deps(), 20);
      expect(await lockWaiters(watcher)).toHaveLength(1);
      const [waitingOther, waitingOne] = await rows([other, id]);
      expect([waitingOther!.status, waitingOne!.status]).toEqual(['received', 'received']);
      await holder.query('commit');
      expect(await screening).toBe(2);
    });
    const [screenedOther, screenedOne] = await rows([other, id]);
    expect([screenedOther!.status, screenedOne!.status]).toEqual(['in_review', 'in_review']);
  });

  it('screens the rest of a batch one at a time when one hand-in faults, and makes the faulty one wait', async () => {
    const claims = [
      await t.fixtures.claimed('text', textInput),
      await t.fixtures.claimed('text', textInput),
      await t.fixtures.claimed('text', textInput),
    ];
    const ids: string[] = [];
    for (const [i, claim] of claims.entries()) {
      ids.push(await handIn(claim, `${sentences.en} Hand-in number ${['one', 'two', 'three'][i]}.`));
    }
    // A fault of ours: the middle hand-in's task has gone from the read model.
    await t.service.db.deleteFrom('task_views').where('id', '=', claims[1]!.taskId).execute();
    let now = new Date();
    const clocked = { ...deps(), clock: () => now };

    expect(await screenWaiting(clocked, 20)).toBe(2);
    const afterRun = await rows(ids);
    // The batch was undone; one at a time, the first passed, the faulty one was put off, the third passed.
    expect(afterRun.map((row) => row.status)).toEqual(['in_review', 'received', 'in_review']);
    let two = afterRun[1];
    expect(two!.screening_attempts).toBe(1);
    expect(two!.screening_retry_at).toEqual(new Date(now.getTime() + SCREENING_RETRY_DELAYS_MS[0]));
    // Operators see it put off, and nothing else waiting.
    expect(await gauge('tessera_submissions_screening_deferred')).toBe(1);
    expect(await gauge('tessera_submissions_screening_due')).toBe(0);

    // Not before its time: no attempt is counted.
    now = new Date(now.getTime() + SCREENING_RETRY_DELAYS_MS[0] - 1);
    expect(await screenWaiting(clocked, 20)).toBe(0);
    [, two] = await rows(ids);
    expect(two!.screening_attempts).toBe(1);

    now = new Date(now.getTime() + 1);
    expect(await screenWaiting(clocked, 20)).toBe(0);
    [, two] = await rows(ids);
    expect(two!.screening_attempts).toBe(2);
    expect(two!.screening_retry_at).toEqual(new Date(now.getTime() + SCREENING_RETRY_DELAYS_MS[1]));

    // Its task is unknown here, so it cannot go to judges unscreened: past the last attempt it
    // keeps waiting the longest delay.
    for (let attempt = 3; attempt <= MAX_SCREENING_ATTEMPTS + 1; attempt++) {
      now = two!.screening_retry_at!;
      expect(await screenWaiting(clocked, 20)).toBe(0);
      [, two] = await rows(ids);
      expect([two!.status, two!.screening_attempts]).toEqual(['received', attempt]);
    }
    expect(two!.screening_retry_at).toEqual(new Date(now.getTime() + SCREENING_RETRY_DELAYS_MS[3]));
  });

  it('reads and decodes the recordings before a faulty one once, though their batch is screened again', async () => {
    const task = await t.fixtures.task('audio');
    const claims = [await t.fixtures.claim(task), await t.fixtures.claim(task), await t.fixtures.claim(task)];
    const mediaIds: string[] = [];
    const ids: string[] = [];
    // Three different recordings (the same bytes twice would be refused as a copy).
    const recordings = [wavs.speech(), wavs.speechStereo(), wavs.speechInNoise()];
    for (const [i, claim] of claims.entries()) {
      const mediaId = await t.upload(claim.token, recordings[i]!);
      mediaIds.push(mediaId);
      ids.push(await handIn(claim, { media_id: mediaId }));
    }
    const keys = await t.service.db
      .selectFrom('media')
      .select(['id', 'storage_key'])
      .where('id', 'in', mediaIds)
      .execute();
    const keyOf = (mediaId: string) => keys.find((k) => k.id === mediaId)!.storage_key;
    // A fault of ours on the last hand-in of the batch: its recording is gone from storage.
    await t.service.resources.storage.delete(keyOf(mediaIds[2]!));
    const storage = t.service.resources.storage;
    const reads: string[] = [];
    const counting = Object.assign(Object.create(storage) as typeof storage, {
      get: (key: string) => {
        reads.push(key);
        return storage.get(key);
      },
    });

    expect(await screenWaiting({ ...deps(), storage: counting }, 20)).toBe(2);
    expect((await rows(ids)).map((row) => [row.status, row.screening_attempts])).toEqual([
      ['in_review', 0],
      ['in_review', 0],
      ['received', 1],
    ]);
    // The batch was undone at the third and screened again one at a time: the first two recordings
    // were read once, the missing one tried in the batch and alone.
    expect(mediaIds.map((id) => reads.filter((key) => key === keyOf(id)).length)).toEqual([1, 1, 2]);
  });

  it('sends a hand-in that faults on every attempt to review unscreened after the last, waiting longer before each', async () => {
    const claim = await t.fixtures.claimed('audio');
    const mediaId = await t.upload(claim.token, wavs.speech());
    const id = await handIn(claim, { media_id: mediaId });
    // A fault of ours: the recording is gone from storage.
    const media = await t.service.db
      .selectFrom('media')
      .select('storage_key')
      .where('id', '=', mediaId)
      .executeTakeFirstOrThrow();
    await t.service.resources.storage.delete(media.storage_key);
    let now = new Date();
    const clocked = { ...deps(), clock: () => now };

    const waits: number[] = [];
    for (let attempt = 1; attempt < MAX_SCREENING_ATTEMPTS; attempt++) {
      expect(await screenWaiting(clocked, 20)).toBe(0);
      const [row] = await rows([id]);
      expect([row!.status, row!.screening_attempts]).toEqual(['received', attempt]);
      waits.push(row!.screening_retry_at!.getTime() - now.getTime());
      now = row!.screening_retry_at!;
    }
    expect(waits).toEqual([...SCREENING_RETRY_DELAYS_MS]);

    expect(await screenWaiting(clocked, 20)).toBe(0);
    const [row] = await rows([id]);
    expect([row!.status, row!.screening_attempts, row!.screening_retry_at]).toEqual([
      'in_review',
      MAX_SCREENING_ATTEMPTS,
      null,
    ]);
    const [validated] = await t.awaitPublished(
      'submissions.submission.validated.v1',
      (e) => e.data.submission_id === id,
    );
    expect(validated!.data.media).toEqual([expect.objectContaining({ media_id: mediaId, kind: 'audio' })]);
  });
  it("gives a revision every screening attempt, whatever its first version's faults used up", async () => {
    const claim = await t.fixtures.claimed('audio');
    const missing = async (mediaId: string) => {
      const media = await t.service.db
        .selectFrom('media')
        .select('storage_key')
        .where('id', '=', mediaId)
        .executeTakeFirstOrThrow();
      await t.service.resources.storage.delete(media.storage_key);
    };
    // The first version faults on every attempt and goes to review unscreened.
    const firstMedia = await t.upload(claim.token, wavs.speech('16', 11_025));
    const id = await handIn(claim, { media_id: firstMedia });
    await missing(firstMedia);
    let now = new Date();
    const clocked = { ...deps(), clock: () => now };
    for (let attempt = 1; attempt <= MAX_SCREENING_ATTEMPTS; attempt++) {
      expect(await screenWaiting(clocked, 20)).toBe(0);
      now = (await rows([id]))[0]!.screening_retry_at ?? now;
    }
    expect((await rows([id]))[0]!.status).toBe('in_review');
    await t.deliver(
      consumerNames.qc,
      foreignEvent('qc.submission.verdict-reached.v1', {
        submission_id: id,
        revision: 1,
        verdict: 'revision',
        method: 'consensus',
        confidence: 0.9,
        quality_score: 0.8,
        reason_codes: ['UNCLEAR'],
        answer: null,
        answer_confidence: null,
      }),
    );
    await waitFor(async () => ((await rows([id]))[0]!.status === 'revision_requested' ? true : undefined));

    // The revision starts afresh: its own fault is its first, and it waits to be screened again.
    const revisedMedia = await t.upload(claim.token, wavs.speech('16', 12_000));
    expect(await handIn(claim, { media_id: revisedMedia })).toBe(id);
    expect((await rows([id]))[0]!.screening_attempts).toBe(0);
    await missing(revisedMedia);
    expect(await screenWaiting(clocked, 20)).toBe(0);
    const [row] = await rows([id]);
    expect([row!.status, row!.screening_attempts]).toEqual(['received', 1]);
    expect(row!.screening_retry_at!.getTime() - now.getTime()).toBe(SCREENING_RETRY_DELAYS_MS[0]);
  });
});
