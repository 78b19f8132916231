import { randomUUID } from 'node:crypto';
import { defaultFraudRules } from '../fraud/decide.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submissionsWorkers } from '../service.ts';
import { startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { screenWaiting } from './handle.ts';
import { sentences } from './testing/fixtures.ts';
import { handIn, screeningDeps, textInput } from './testing/screening.ts';

// Several instances screen the same queue (SKIP LOCKED). Two copies of one text in a campaign (the
// same words, spaced differently: not the same bytes, so only the normalised-text check sees it),
// screened at the same moment by two of them, must not both pass as originals.

let t: TestSubmissions;

beforeAll(async () => {
  t = await startTestSubmissions({}, { workers: { [submissionsWorkers.prevalidation]: false } });
});

afterAll(async () => {
  await t?.stop();
});

describe('two instances screening at once', () => {
  it('let exactly one of two identical texts in a campaign through, every time', async () => {
    const deps = screeningDeps(t);
    for (let round = 0; round < 5; round++) {
      const task = await t.fixtures.task('text', textInput);
      const claims = await Promise.all([t.fixtures.claim(task), t.fixtures.claim(task)]);
      const text = `${sentences.en} Round ${['one', 'two', 'three', 'four', 'five'][round]} of the copies.`;
      const ids: string[] = [];
      for (const [index, claim] of claims.entries()) {
        ids.push(await handIn(t, claim, index === 0 ? text : text.replaceAll(' ', '  ')));
      }
      // Two "instances", one hand-in each (SKIP LOCKED gives each its own).
      const screened = await Promise.all([screenWaiting(deps, 1), screenWaiting(deps, 1)]);
      expect(screened).toEqual([1, 1]);
      const rows = await t.service.db
        .selectFrom('submissions')
        .select(['id', 'status', 'reason_codes'])
        .where('id', 'in', ids)
        .execute();
      expect(rows.map((r) => r.status).sort(), `round ${round}`).toEqual(['in_review', 'rejected']);
      expect(rows.find((r) => r.status === 'rejected')!.reason_codes).toContain('TEXT_DUPLICATE');
    }
  });

  it('screen a busy queue from three instances at once: each hand-in once, one burst flag per contributor', async () => {
    // Six contributors, each handing in 8 texts spread over 16 campaigns, screened by three
    // instances in batches of 3: batches meet the same campaigns and the same contributors' once-a-day
    // flags from several sessions. (The lock order itself is proved by the wait it causes, in
    // batch.int.spec.ts; this asserts what several instances must never do: screen a hand-in twice
    // or store a contributor's flag twice.)
    // Over one hand-in an hour is a burst here: every hand-in after a contributor's first raises it.
    const deps = { ...screeningDeps(t), fraud: { ...defaultFraudRules, maxPerHour: 1 } };
    const tasks = await Promise.all(Array.from({ length: 16 }, () => t.fixtures.task('text', textInput)));
    const contributors = Array.from({ length: 6 }, () => randomUUID());
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) {
      for (const [c, contributorId] of contributors.entries()) {
        const claim = await t.fixtures.claim(tasks[(n * contributors.length + c * 5) % tasks.length]!, {
          contributorId,
        });
        ids.push(await handIn(t, claim, `${sentences.en} Hand-in ${n} of contributor ${contributorId}.`));
      }
    }

    const instance = async () => {
      let total = 0;
      for (;;) {
        const count = await screenWaiting(deps, 6, 3);
        if (count === 0) return total;
        total += count;
      }
    };
    const screened = await Promise.all([instance(), instance(), instance()]);
    expect(screened.reduce((a, b) => a + b, 0)).toBe(ids.length);
    expect(screened.filter((count) => count > 0).length, 'instances that screened').toBeGreaterThan(1);

    const rows = await t.service.db
      .selectFrom('submissions')
      .select(['id', 'status', 'screening_attempts'])
      .where('id', 'in', ids)
      .execute();
    expect(rows.filter((r) => r.status === 'in_review')).toHaveLength(ids.length);
    expect(rows.every((r) => r.screening_attempts === 0)).toBe(true);
    for (const id of ids) {
      const validated = await t.written('submissions.submission.validated.v1', 'submission_id', id);
      expect(validated, id).toHaveLength(1);
    }
    const bursts = await t.service.db
      .selectFrom('fraud_flags')
      .select(['contributor_id'])
      .where('signal', '=', 'burst')
      .where('contributor_id', 'in', contributors)
      .execute();
    expect(bursts.map((f) => f.contributor_id).sort()).toEqual([...contributors].sort());
  });
});
