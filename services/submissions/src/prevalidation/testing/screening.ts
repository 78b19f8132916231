// Test support: what screenWaiting needs, from a test's submissions service, for tests that
// screen by hand (the periodic worker off).
import { createLogger } from '@tessera/service-kit';
import { expect } from 'vitest';
import { defaultFraudRules } from '../../fraud/decide.ts';
import type { ClaimFixture, TestSubmissions } from '../../testing/harness.ts';
import type { ScreeningDeps } from '../handle.ts';

export function screeningDeps(t: TestSubmissions): ScreeningDeps {
  return {
    db: t.service.db,
    storage: t.service.resources.storage,
    clock: () => new Date(),
    logger: createLogger({ name: 'screening-test', level: 'silent', pretty: false }),
    minImageSide: { width: 640, height: 480 },
    fraud: defaultFraudRules,
  };
}

/** A text task's input that the fixtures' sentences pass. */
export const textInput = { prompt: 'Describe the library', language: 'en', min_chars: 20, max_chars: 2000 };

/** Hands in `work` (a text, or an uploaded recording or photo) under `claim`: the submission's id. */
export async function handIn(
  t: TestSubmissions,
  claim: ClaimFixture,
  work: string | { media_id: string },
): Promise<string> {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/submissions',
    token: claim.token,
    body: {
      assignment_id: claim.assignmentId,
      payload: typeof work === 'string' ? { text: work } : work,
      time_spent_seconds: 120,
    },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return (response.body as { submission: { id: string } }).submission.id;
}
