import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@tessera/service-kit/testing';
import { sentences } from '../prevalidation/testing/fixtures.ts';
import { defaultFraudRules } from './decide.ts';
import { raiseFlags } from './handle.ts';
import { type ClaimFixture, startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';

let t: TestSubmissions;

beforeAll(async () => {
  t = await startTestSubmissions();
});

afterAll(async () => {
  await t?.stop();
});

const textInput = { prompt: 'Describe the library', language: 'en', min_chars: 20, max_chars: 2000 };

async function handIn(claim: ClaimFixture, text: string, seconds: number): Promise<string> {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/submissions',
    token: claim.token,
    body: { assignment_id: claim.assignmentId, payload: { text }, time_spent_seconds: seconds },
  });
  expect(response.status).toBe(202);
  return response.body.submission.id as string;
}

async function flagsOf(contributorId: string) {
  const admin = await t.token({ role: 'admin' });
  const response = await t.inject({
    url: `/api/v1/admin/submissions/flags?contributor_id=${contributorId}`,
    token: admin,
  });
  expect(response.status).toBe(200);
  return response.body.flags as { signal: string; submission_id: string }[];
}

describe('fraud signals raised at screening', () => {
  it('flags work handed in too fast, announces it, and does not reject it for that', async () => {
    const claim = await t.fixtures.claim(await t.fixtures.task('text', textInput));
    const id = await handIn(claim, `${sentences.en} Written in a hurry.`, 2);
    const flags = await waitFor(async () => {
      const found = await flagsOf(claim.contributorId);
      return found.length > 0 ? found : undefined;
    });
    expect(flags.map((f) => [f.signal, f.submission_id])).toEqual([['too_fast', id]]);
    const [event] = await t.awaitPublished(
      'submissions.contributor.flagged.v1',
      (e) => e.data.submission_id === id,
    );
    expect(event!.data).toMatchObject({
      contributor_id: claim.contributorId,
      signal: 'too_fast',
      campaign_id: claim.campaignId,
    });
    const submission = await t.inject({ url: `/api/v1/submissions/${id}`, token: claim.token });
    expect(submission.body.submission.status).toBe('in_review');

    const admin = await t.token({ role: 'admin' });
    const flagged = await t.inject({ url: '/api/v1/admin/submissions?flagged=true&limit=100', token: admin });
    expect(flagged.body.submissions.map((s: { id: string }) => s.id)).toContain(id);
    const clean = await t.inject({ url: '/api/v1/admin/submissions?flagged=false&limit=100', token: admin });
    expect(clean.body.submissions.map((s: { id: string }) => s.id)).not.toContain(id);
  });

  it('flags a burst of more than 10 hand-ins in an hour once, and the same content from two accounts', async () => {
    const task = await t.fixtures.task('validation');
    const first = await t.fixtures.claim(task);
    for (let i = 0; i < 11; i++) {
      const claim = i === 0 ? first : await t.fixtures.claim(task, { contributorId: first.contributorId });
      const response = await t.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        token: claim.token,
        body: { assignment_id: claim.assignmentId, payload: { option: 'yes' }, time_spent_seconds: 30 },
      });
      expect(response.status).toBe(202);
    }
    const flags = await waitFor(async () => {
      const found = await flagsOf(first.contributorId);
      return found.some((f) => f.signal === 'burst') ? found : undefined;
    });
    expect(flags.filter((f) => f.signal === 'burst')).toHaveLength(1);

    const text = `${sentences.de} Kopiert.`;
    const task2 = await t.fixtures.task('text', { ...textInput, language: 'de' });
    const original = await t.fixtures.claim(task2);
    await handIn(original, text, 300);
    const copier = await t.fixtures.claim(task2);
    const copy = await handIn(copier, text, 300);
    const copied = await waitFor(async () => {
      const found = await flagsOf(copier.contributorId);
      return found.length > 0 ? found : undefined;
    });
    expect(copied.map((f) => [f.signal, f.submission_id])).toEqual([['shared_content', copy]]);
    expect(await flagsOf(original.contributorId)).toEqual([]);
  });

  it('flags the later of two identical hand-ins, never the original, whichever is screened first', async () => {
    const text = `${sentences.de} Zweimal eingereicht.`;
    const task = await t.fixtures.task('text', { ...textInput, language: 'de' });
    const original = await t.fixtures.claim(task);
    const first = await handIn(original, text, 300);
    const copier = await t.fixtures.claim(task);
    const copy = await handIn(copier, text, 300);
    await waitFor(async () => ((await flagsOf(copier.contributorId)).length > 0 ? true : undefined));

    // Screening the original again now, with the copy on record, as a late screening would.
    const db = t.service.db;
    const row = await db
      .selectFrom('submissions')
      .selectAll()
      .where('id', '=', first)
      .executeTakeFirstOrThrow();
    const raised = await db
      .transaction()
      .execute((trx) => raiseFlags(trx, row, defaultFraudRules, new Date()));
    expect(raised).toBe(0);
    expect(await flagsOf(original.contributorId)).toEqual([]);
    expect((await flagsOf(copier.contributorId)).map((f) => [f.signal, f.submission_id])).toEqual([
      ['shared_content', copy],
    ]);
  });

  it('shows flags to admins only', async () => {
    const contributor = await t.token({ role: 'contributor' });
    expect((await t.inject({ url: '/api/v1/admin/submissions/flags', token: contributor })).status).toBe(403);
  });
});
