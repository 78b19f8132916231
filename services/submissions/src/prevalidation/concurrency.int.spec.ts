import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submissionsWorkers } from '../service.ts';
import { startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { screenWaiting } from './handle.ts';
import { sentences } from './testing/fixtures.ts';
import { screeningDeps, textInput } from './testing/screening.ts';

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
        const response = await t.inject({
          method: 'POST',
          url: '/api/v1/submissions',
          token: claim.token,
          body: {
            assignment_id: claim.assignmentId,
            payload: { text: index === 0 ? text : text.replaceAll(' ', '  ') },
            time_spent_seconds: 120,
          },
        });
        expect(response.status, JSON.stringify(response.body)).toBe(202);
        ids.push(response.body.submission.id as string);
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
});
