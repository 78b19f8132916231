import { randomUUID } from 'node:crypto';
import type { EventData } from '@tessera/contracts';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { qcMigrations } from '../db/migrations.ts';
import { qcWorkers } from '../service.ts';
import { type Judge, type SubmissionFixture, startTestQc, type TestQc } from '../testing/harness.ts';
import { payDueHoneypotFees } from './honeypot-fees.ts';

let t: TestQc;
let admin: string;
let now = new Date('2030-03-02T10:00:00.000Z');
const clock = () => now;
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
/** The draws scripted for the next uses of the random source; 0 once none is left. */
const draws: number[] = [];
const random = () => draws.shift() ?? 0;

const FALLBACK_S = 600;

beforeAll(async () => {
  // Every lease is a honeypot turn when one is available (a draw of 0 always is).
  t = await startTestQc(
    { QC_HONEYPOT_EVERY: 1, QC_HONEYPOT_FEE_DELAY_SECONDS: FALLBACK_S },
    { clock, random, workers: { [qcWorkers.leaseExpiry]: false } },
  );
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});

afterAll(async () => {
  await t?.stop();
});

beforeEach(async () => {
  // Each test's own honeypots: none left from another test (nor anything due from one).
  draws.length = 0;
  await t.service.db.updateTable('cases').set({ honeypot_verdict: null }).execute();
  await payDueHoneypotFees(t.service.db, new Date('2100-01-01T00:00:00.000Z'));
  now = later(3_600);
});

const lease = async (judge: Judge) => {
  const response = await t.inject({ url: '/api/v1/reviews/next', token: judge.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return {
    id: response.body.review.id as string,
    submissionId: response.body.review.submission_id as string,
  };
};
const vote = async (judge: Judge, reviewId: string, verdict: 'approve' | 'reject') => {
  const response = await t.inject({
    method: 'POST',
    url: `/api/v1/reviews/${reviewId}`,
    token: judge.token,
    body: { verdict, quality_score: 0.5, reasons: verdict === 'approve' ? [] : ['UNCLEAR'] },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
};
const mark = async (caseId: string, verdict: 'approve' | 'reject' | null) => {
  const response = await t.inject({
    method: 'POST',
    url: `/api/v1/admin/reviews/${caseId}/honeypot`,
    token: admin,
    body: { verdict },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
};
const caseOf = (submissionId: string) =>
  t.service.db
    .selectFrom('cases')
    .selectAll()
    .where('submission_id', '=', submissionId)
    .executeTakeFirstOrThrow();
const reviewRow = (id: string) =>
  t.service.db.selectFrom('reviews').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const counted = (reviewId: string) => t.written('qc.review.counted.v1', 'review_id', reviewId);
const honeypotFees = (reviewId: string) => t.written('qc.honeypot.fee-earned.v1', 'review_id', reviewId);
const realFees = (reviewId: string) => t.written('qc.review.fee-earned.v1', 'review_id', reviewId);

/** A settled case, known to be bad work (rejected), that an admin marked as a honeypot. */
async function honeypot(
  extra: Partial<EventData<'submissions.submission.validated.v1'>> = {},
): Promise<SubmissionFixture> {
  const settled = await t.fixtures.submission(await t.fixtures.task('text'), extra);
  const found = await caseOf(settled.submissionId);
  await t.service.db
    .updateTable('cases')
    .set({ status: 'decided', verdict: 'reject', method: 'consensus', decided_at: now })
    .where('id', '=', found.id)
    .execute();
  await mark(found.id, 'reject');
  return settled;
}

/** A judge's review of the honeypot, submitted now: its id. */
async function honeypotReview(trap: SubmissionFixture, verdict: 'approve' | 'reject', judge?: Judge) {
  const who = judge ?? (await t.fixtures.judge());
  const leased = await lease(who);
  expect(leased.submissionId).toBe(trap.submissionId);
  await vote(who, leased.id, verdict);
  return { reviewId: leased.id, judge: who };
}

describe('honeypot fees', () => {
  it('are neither counted nor paid at submission; when due, counted and paid once, with the case’s fee, currency, claim and campaign', async () => {
    // No real review has settled in this database yet: the configured delay.
    const settled = await t.service.db
      .selectFrom('reviews')
      .select('id')
      .where('kind', '=', 'consensus')
      .where('counted_at', 'is not', null)
      .execute();
    expect(settled).toEqual([]);
    const trap = await honeypot({ judge_fee: { amount: 37, currency: 'EUR' } });
    const submittedAt = now;
    const { reviewId, judge } = await honeypotReview(trap, 'reject');

    // Nothing published at once: a real review pays only when its case settles.
    expect(await counted(reviewId)).toEqual([]);
    expect(await honeypotFees(reviewId)).toEqual([]);
    expect(await realFees(reviewId)).toEqual([]);
    const row = await reviewRow(reviewId);
    expect(row).toMatchObject({
      status: 'submitted',
      counted_at: null,
      fee_amount: null,
      honeypot_agreed: true,
    });
    expect(row.fee_due_at).toEqual(new Date(submittedAt.getTime() + FALLBACK_S * 1000));

    // Not due a moment before.
    expect(await payDueHoneypotFees(t.service.db, new Date(row.fee_due_at!.getTime() - 1))).toBe(0);
    expect(await counted(reviewId)).toEqual([]);

    const dueAt = row.fee_due_at!;
    expect(await payDueHoneypotFees(t.service.db, dueAt)).toBe(1);
    const [countedEvent, ...moreCounted] = await counted(reviewId);
    expect(moreCounted).toEqual([]);
    expect(countedEvent).toMatchObject({
      source: 'qc',
      subject: reviewId,
      time: dueAt.toISOString(),
      data: { review_id: reviewId, submission_id: trap.submissionId, judge_id: judge.id, agreed: true },
    });
    const [fee, ...moreFees] = await honeypotFees(reviewId);
    expect(moreFees).toEqual([]);
    expect(fee?.data).toEqual({
      review_id: reviewId,
      submission_id: trap.submissionId,
      assignment_id: trap.assignmentId,
      campaign_id: trap.campaignId,
      judge_id: judge.id,
      fee: { amount: 37, currency: 'EUR' },
    });
    // Not the campaign's fee: the ledger pays a honeypot from the platform.
    expect(await realFees(reviewId)).toEqual([]);
    expect(await reviewRow(reviewId)).toMatchObject({ counted_at: dueAt, fee_amount: 37 });

    // Once: later runs find nothing more.
    expect(await payDueHoneypotFees(t.service.db, later(86_400))).toBe(0);
    expect(await counted(reviewId)).toHaveLength(1);
    expect(await honeypotFees(reviewId)).toHaveLength(1);
    await t.awaitPublished('qc.honeypot.fee-earned.v1', (event) => event.data.review_id === reviewId);
  });

  it('fall due as long after the review as one of the latest real settlements took, drawn at random', async () => {
    // A real case settled by three judges voting 250 s, 100 s and 0 s before the deciding vote: its
    // reviews settled 250 s, 150 s and 0 s after their submission.
    const real = await t.fixtures.submission(await t.fixtures.task('text'));
    const start = now;
    for (const offset of [0, 100, 250]) {
      now = new Date(start.getTime() + offset * 1000);
      const judge = await t.fixtures.judge();
      const leased = await lease(judge);
      expect(leased.submissionId).toBe(real.submissionId);
      await vote(judge, leased.id, 'approve');
    }
    expect(await caseOf(real.submissionId)).toMatchObject({ status: 'decided', method: 'consensus' });

    now = later(3_600);
    const trap = await honeypot();
    // Latest counted first, the latest submitted first among a case's: 0 s, 150 s, 250 s. Each
    // judge's lease draws first (0: a honeypot turn), then their submission draws the settlement.
    const delays: number[] = [];
    for (const draw of [0.9, 0.5, 0.1]) {
      const judge = await t.fixtures.judge();
      const leased = await lease(judge);
      expect(leased.submissionId).toBe(trap.submissionId);
      const sampled = await t.service.db
        .selectFrom('reviews')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('kind', '=', 'consensus')
        .where('counted_at', 'is not', null)
        .executeTakeFirstOrThrow();
      expect(Number(sampled.n)).toBe(3);
      draws.push(draw);
      const submittedAt = now;
      await vote(judge, leased.id, 'reject');
      expect(draws).toEqual([]);
      const row = await reviewRow(leased.id);
      delays.push((row.fee_due_at!.getTime() - submittedAt.getTime()) / 1000);
    }
    expect(delays).toEqual([250, 150, 0]);

    // The one due at once is counted at once; the others when their time comes.
    expect(await payDueHoneypotFees(t.service.db, now)).toBe(1);
    expect(await payDueHoneypotFees(t.service.db, later(149))).toBe(0);
    expect(await payDueHoneypotFees(t.service.db, later(150))).toBe(1);
    expect(await payDueHoneypotFees(t.service.db, later(250))).toBe(1);
  });

  it('pay a honeypot withdrawn while leased too (not scored: agreed says whether it matched the case’s verdict)', async () => {
    const trap = await honeypot();
    const judge = await t.fixtures.judge();
    const leased = await lease(judge);
    expect(leased.submissionId).toBe(trap.submissionId);
    await mark((await caseOf(trap.submissionId)).id, null);
    // The case's own verdict (reject): agreed, though there is no known verdict any more.
    await vote(judge, leased.id, 'reject');
    // Not scored (no known verdict), yet the judge did the work.
    expect(
      await t.service.db
        .selectFrom('judges')
        .select(['answered', 'honeypot_answered'])
        .where('user_id', '=', judge.id)
        .executeTakeFirstOrThrow(),
    ).toEqual({ answered: 0, honeypot_answered: 0 });
    const row = await reviewRow(leased.id);
    expect(row).toMatchObject({ honeypot_agreed: true, counted_at: null });
    expect(row.fee_due_at).not.toBeNull();
    expect(await counted(leased.id)).toEqual([]);

    expect(await payDueHoneypotFees(t.service.db, row.fee_due_at!)).toBe(1);
    expect((await counted(leased.id)).map((event) => event.data.agreed)).toEqual([true]);
    expect((await honeypotFees(leased.id)).map((event) => event.data.fee)).toEqual([
      { amount: 10, currency: 'USD' },
    ]);
  });

  it('count a honeypot of a case without a judge fee, and pay nothing', async () => {
    const trap = await honeypot({ judge_fee: { amount: 0, currency: 'USD' } });
    const { reviewId } = await honeypotReview(trap, 'approve');
    const row = await reviewRow(reviewId);
    expect(await payDueHoneypotFees(t.service.db, row.fee_due_at!)).toBe(1);
    expect((await counted(reviewId)).map((event) => event.data.agreed)).toEqual([false]);
    expect(await honeypotFees(reviewId)).toEqual([]);
    expect(await reviewRow(reviewId)).toMatchObject({ fee_amount: 0 });
    expect((await reviewRow(reviewId)).counted_at).not.toBeNull();
  });

  it('are counted once when runs overlap (two instances): each review by one run', async () => {
    const trap = await honeypot();
    const reviews: string[] = [];
    for (let i = 0; i < 6; i++) reviews.push((await honeypotReview(trap, 'reject')).reviewId);
    const due = later(86_400);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => payDueHoneypotFees(t.service.db, due, { batchSize: 1 })),
    );
    expect(runs.reduce((sum, n) => sum + n, 0)).toBe(6);
    for (const id of reviews) {
      expect(await counted(id), id).toHaveLength(1);
      expect(await honeypotFees(id), id).toHaveLength(1);
    }
  });

  it('do not wait for a review another run holds: the others are counted, that one by a later run', async () => {
    const trap = await honeypot();
    const held = (await honeypotReview(trap, 'reject')).reviewId;
    const free = (await honeypotReview(trap, 'reject')).reviewId;
    const due = later(86_400);
    await t.service.db.transaction().execute(async (trx) => {
      await trx.selectFrom('reviews').select('id').where('id', '=', held).forUpdate().execute();
      const run = payDueHoneypotFees(t.service.db, due);
      const waited = new Promise<string>((resolve) => setTimeout(() => resolve('waited'), 3_000));
      expect(await Promise.race([run, waited])).toBe(1);
    });
    expect(await counted(free)).toHaveLength(1);
    expect(await counted(held)).toEqual([]);
    expect(await payDueHoneypotFees(t.service.db, due)).toBe(1);
    expect(await counted(held)).toHaveLength(1);
  });

  it('are found through indexes built concurrently, by migrations that run again safely after a failure half-way', async () => {
    const db = t.service.db as unknown as Kysely<unknown>;
    const indexes = async () =>
      (
        await sql<{ name: string; valid: boolean; definition: string }>`
          select c.relname as name, i.indisvalid as valid, pg_get_indexdef(i.indexrelid) as definition
          from pg_index i join pg_class c on c.oid = i.indexrelid
          where c.relname in ('reviews_honeypot_fees_due', 'reviews_counted')
          order by c.relname`.execute(db)
      ).rows;
    const before = await indexes();
    expect(before.map((index) => [index.name, index.valid])).toEqual([
      ['reviews_counted', true],
      ['reviews_honeypot_fees_due', true],
    ]);
    expect(before[1]!.definition).toContain("WHERE ((kind = 'honeypot'::text) AND (counted_at IS NULL))");
    for (const name of ['0010_honeypot_fees_due_index', '0011_reviews_counted_index']) {
      expect(qcMigrations[name]!.transaction).toBe(false);
      await qcMigrations[name]!.up(db);
    }
    expect(await indexes()).toEqual(before);
  });
});

describe('the honeypot-fees worker', () => {
  it('counts and pays the honeypot reviews that fell due, on its own', async () => {
    const own = await startTestQc(
      { QC_HONEYPOT_EVERY: 1, QC_HONEYPOT_FEE_DELAY_SECONDS: 0, QC_HONEYPOT_FEE_INTERVAL_MS: 50 },
      { workers: { [qcWorkers.honeypotFees]: true } },
    );
    try {
      const settled = await own.fixtures.submission(await own.fixtures.task('text'));
      const found = await own.service.db
        .selectFrom('cases')
        .select('id')
        .where('submission_id', '=', settled.submissionId)
        .executeTakeFirstOrThrow();
      await own.service.db
        .updateTable('cases')
        .set({ status: 'decided', verdict: 'reject', method: 'consensus', decided_at: new Date() })
        .where('id', '=', found.id)
        .execute();
      const marked = await own.inject({
        method: 'POST',
        url: `/api/v1/admin/reviews/${found.id}/honeypot`,
        token: await own.token({ sub: randomUUID(), role: 'admin' }),
        body: { verdict: 'reject' },
      });
      expect(marked.status).toBe(200);
      const judge = await own.fixtures.judge();
      const leased = await own.inject({ url: '/api/v1/reviews/next', token: judge.token });
      const reviewId = leased.body.review.id as string;
      const voted = await own.inject({
        method: 'POST',
        url: `/api/v1/reviews/${reviewId}`,
        token: judge.token,
        body: { verdict: 'reject', quality_score: 0.5, reasons: ['UNCLEAR'] },
      });
      expect(voted.status).toBe(200);
      const [fee] = await own.awaitPublished(
        'qc.honeypot.fee-earned.v1',
        (event) => event.data.review_id === reviewId,
      );
      expect(fee?.data).toMatchObject({ judge_id: judge.id, fee: { amount: 10, currency: 'USD' } });
      expect(await own.written('qc.review.counted.v1', 'review_id', reviewId)).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });
});
