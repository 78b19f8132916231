import { waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { sentences } from './testing/fixtures.ts';
import { handIn as handInAs } from './testing/screening.ts';

// Pre-validation polls only as a fallback: a hand-in wakes it. With a ten-minute interval, only
// the wake can screen these in time.

let t: TestSubmissions;

beforeAll(async () => {
  t = await startTestSubmissions({ SUBMISSIONS_SCREEN_INTERVAL_MS: 600_000 });
});

afterAll(async () => {
  await t?.stop();
});

const NOTES = [
  'The reading room opens early.',
  'Bring your own lamp to the archive.',
  'The garden wing closes on Sundays.',
  'Old maps hang near the stairs.',
  'A quiet corner waits by the window.',
  'Children read aloud on Fridays.',
];

const textInput = { prompt: 'Describe the library', language: 'en', min_chars: 20, max_chars: 2000 };

describe('a hand-in', () => {
  it('is screened at once, not at the next interval, one after another and in a burst', async () => {
    const task = await t.fixtures.task('text', textInput);
    const claims = await Promise.all(Array.from({ length: 6 }, () => t.fixtures.claim(task)));
    // Each a different text: the same one twice would be rejected as a duplicate.
    const handIn = async (claim: (typeof claims)[number], index = 0) => ({
      claim,
      id: await handInAs(t, claim, `${sentences.en} ${NOTES[index]}`),
    });
    const screened = ({ claim, id }: { claim: (typeof claims)[number]; id: string }) =>
      waitFor(
        async () => {
          const response = await t.inject({ url: `/api/v1/submissions/${id}`, token: claim.token });
          const { status } = response.body.submission as { status: string };
          return status === 'received' ? undefined : status;
        },
        { what: `submission ${id} screened`, timeoutMs: 5_000 },
      );

    const first = await handIn(claims[0]!);
    expect(await screened(first)).toBe('in_review');
    // Five at once: pulls during a run start another right after it, so none waits for the interval.
    const burst = await Promise.all(claims.slice(1).map((claim, i) => handIn(claim, i + 1)));
    for (const handedIn of burst) expect(await screened(handedIn)).toBe('in_review');
  });
});
