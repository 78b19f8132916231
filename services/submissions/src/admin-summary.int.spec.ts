import { ADMIN_SUMMARY_PATH } from '@tessera/service-kit';
import { expectAdminsOnly, waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sentences } from './prevalidation/testing/fixtures.ts';
import { startTestSubmissions, type TestSubmissions } from './testing/harness.ts';

let t: TestSubmissions;

beforeAll(async () => {
  t = await startTestSubmissions();
});
afterAll(async () => {
  await t?.stop();
});

interface Summary {
  in_review: number;
  revision_requested: number;
  flagged_submissions: { total: number; in_review: number };
  open_appeals: number;
}

async function summary(): Promise<Summary> {
  const response = await t.inject({ url: ADMIN_SUMMARY_PATH, token: await t.token({ role: 'admin' }) });
  expect(response.status).toBe(200);
  return response.body as Summary;
}

const textInput = { prompt: 'Describe the library', language: 'en', min_chars: 20, max_chars: 2000 };

describe("submissions' figures for the admin dashboard", () => {
  it('counts work in review, and flags work handed in too fast', async () => {
    const before = await summary();
    const task = await t.fixtures.task('text', textInput);
    for (const [text, seconds] of [
      [`${sentences.en} Written with care.`, 120],
      [`${sentences.en} Written in a hurry.`, 2],
    ] as const) {
      const claim = await t.fixtures.claim(task);
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        token: claim.token,
        body: { assignment_id: claim.assignmentId, payload: { text }, time_spent_seconds: seconds },
      });
      expect(response.status).toBe(202);
    }
    // Screening runs off the request path; the hurried one is flagged there, and both stay in review.
    const after = await waitFor(async () => {
      const current = await summary();
      return current.flagged_submissions.total === before.flagged_submissions.total + 1 ? current : undefined;
    });
    expect(after).toEqual({
      ...before,
      in_review: before.in_review + 2,
      flagged_submissions: {
        total: before.flagged_submissions.total + 1,
        in_review: before.flagged_submissions.in_review + 1,
      },
    });
  });

  it('answers admins only', () => expectAdminsOnly(t, ADMIN_SUMMARY_PATH));
});
