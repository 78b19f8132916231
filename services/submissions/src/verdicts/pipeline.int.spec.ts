import { randomUUID } from 'node:crypto';
import type { TesseraEvent } from '@tessera/contracts';
import { createLogger } from '@tessera/service-kit';
import { failRowWrites, foreignEvent, waitFor } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { gibberish, images, sentences, wavs } from '../prevalidation/testing/fixtures.ts';
import { type ClaimFixture, startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';
import { APPEAL_WINDOW_MS } from '../appeals/decide.ts';
import { expireRevisions } from './handle.ts';

// From hand-in to verdict: pre-validation (the real worker), QC's verdicts (published on the bus
// as QC would), one revision, one appeal.

let t: TestSubmissions;

beforeAll(async () => {
  t = await startTestSubmissions();
});

afterAll(async () => {
  await t?.stop();
});

const textInput = { prompt: 'Describe the library', language: 'en', min_chars: 20, max_chars: 2000 };

const upload = (claim: ClaimFixture, bytes: Uint8Array) => t.upload(claim.token, bytes);

async function handIn(claim: ClaimFixture, payload: unknown): Promise<string> {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/submissions',
    token: claim.token,
    body: { assignment_id: claim.assignmentId, payload, time_spent_seconds: 120 },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.submission.id as string;
}

interface Seen {
  status: string;
  reason_codes: string[];
}

/** The submission once its status is none of `not`. */
async function settled(claim: ClaimFixture, id: string, not: string[] = ['received']): Promise<Seen> {
  return waitFor(
    async () => {
      const response = await t.inject({ url: `/api/v1/submissions/${id}`, token: claim.token });
      const submission = response.body.submission as Seen;
      return not.includes(submission.status) ? undefined : submission;
    },
    { what: `submission ${id} to leave ${not.join(', ')}` },
  );
}

async function verdict(
  submissionId: string,
  data: Partial<TesseraEvent<'qc.submission.verdict-reached.v1'>['data']> = {},
) {
  const event = foreignEvent('qc.submission.verdict-reached.v1', {
    submission_id: submissionId,
    revision: 1,
    verdict: 'approve',
    method: 'consensus',
    confidence: 0.96,
    quality_score: 0.8,
    reason_codes: [],
    answer: null,
    answer_confidence: null,
    ...data,
  });
  await t.deliver(consumerNames.qc, event);
  return event;
}

describe('pre-validation', () => {
  it('passes good text to review and announces references, not the work', async () => {
    const claim = await t.fixtures.claim(await t.fixtures.task('text', textInput));
    const id = await handIn(claim, { text: sentences.en });
    expect((await settled(claim, id)).status).toBe('in_review');
    const [validated] = await t.awaitPublished(
      'submissions.submission.validated.v1',
      (e) => e.data.submission_id === id,
    );
    expect(validated!.data).toMatchObject({
      assignment_id: claim.assignmentId,
      company_id: claim.companyId,
      task_type: 'text',
      revision: 1,
      judges_required: 3,
      // The judging terms the claim fixed.
      judge_fee: { amount: 12, currency: 'USD' },
      max_judges: 4,
      is_golden: false,
      answer: null,
      media: [],
    });
    expect(JSON.stringify(validated!.data)).not.toContain('library');
  });

  it.each([
    ['keyboard mash', 'text', 'TEXT_GIBBERISH'],
    ['the wrong language', 'text-fr', 'TEXT_WRONG_LANGUAGE'],
    ['a silent recording', 'silent', 'AUDIO_MOSTLY_SILENT'],
    ['a recording too short for the task', 'short', 'AUDIO_TOO_SHORT'],
    ['a blurred photo', 'blurred', 'IMAGE_BLURRY'],
    ['a thumbnail', 'tiny', 'IMAGE_TOO_SMALL'],
  ])('rejects %s with a reason the contributor can read', async (_, fixture, reason) => {
    let claim: ClaimFixture;
    let payload: unknown;
    if (fixture.startsWith('text')) {
      claim = await t.fixtures.claim(await t.fixtures.task('text', textInput));
      payload = {
        text: fixture === 'text' ? `${gibberish.keyboardMash} ${gibberish.randomLetters(80)}` : sentences.fr,
      };
    } else if (fixture === 'silent' || fixture === 'short') {
      claim = await t.fixtures.claimed('audio');
      payload = { media_id: await upload(claim, fixture === 'silent' ? wavs.silent() : wavs.tooShort()) };
    } else {
      claim = await t.fixtures.claimed('image');
      payload = {
        media_id: await upload(claim, fixture === 'blurred' ? await images.blurred() : await images.tiny()),
      };
    }
    const id = await handIn(claim, payload);
    const submission = await settled(claim, id);
    // The most basic failure first (keyboard mash may also read as no language at all).
    expect([submission.status, submission.reason_codes[0]]).toEqual(['rejected', reason]);
    const [rejected] = await t.awaitPublished(
      'submissions.submission.rejected.v1',
      (e) => e.data.submission_id === id,
    );
    expect(rejected!.data).toMatchObject({
      reason_code: reason,
      reason_codes: submission.reason_codes,
      stage: 'pre_validation',
    });
  });

  it('passes a clear recording and a sharp photo, with their media as references', async () => {
    const voice = await t.fixtures.claimed('audio');
    const voiceMedia = await upload(voice, wavs.speech());
    const voiceId = await handIn(voice, { media_id: voiceMedia });
    const photo = await t.fixtures.claimed('image');
    const photoId = await handIn(photo, { media_id: await upload(photo, await images.sharp()) });
    expect((await settled(voice, voiceId)).status).toBe('in_review');
    expect((await settled(photo, photoId)).status).toBe('in_review');
    const [validated] = await t.awaitPublished(
      'submissions.submission.validated.v1',
      (e) => e.data.submission_id === voiceId,
    );
    expect(validated!.data.media).toEqual([
      { media_id: voiceMedia, kind: 'audio', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
  });

  it('rejects the same content handed in again, and a near copy of a photo in the same campaign', async () => {
    const task = await t.fixtures.task('image');
    const first = await t.fixtures.claim(task);
    const firstId = await handIn(first, { media_id: await upload(first, await images.sharp(800, 600)) });
    expect((await settled(first, firstId)).status).toBe('in_review');

    const copy = await t.fixtures.claim(task);
    const copyId = await handIn(copy, { media_id: await upload(copy, await images.sharp(800, 600)) });
    expect((await settled(copy, copyId)).reason_codes).toEqual(['IMAGE_NEAR_DUPLICATE', 'CONTENT_DUPLICATE']);

    const resized = await t.fixtures.claim(task);
    const resizedId = await handIn(resized, {
      media_id: await upload(resized, await images.sharpJpeg(800, 600, 80)),
    });
    expect((await settled(resized, resizedId)).reason_codes).toEqual(['IMAGE_NEAR_DUPLICATE']);
  });
});

describe('verdicts', () => {
  async function inReview(reward = 150) {
    const claim = await t.fixtures.claim(await t.fixtures.task('validation'), { reward });
    const id = await handIn(claim, { option: 'yes' });
    expect((await settled(claim, id)).status).toBe('in_review');
    return { claim, id };
  }

  it('approves once under redelivery, paying what the claim fixed', async () => {
    const { claim, id } = await inReview(77);
    const event = await verdict(id);
    await t.publish(event, `again-${event.id}`); // the same event delivered twice
    await verdict(id); // and a repeated verdict
    await new Promise((resolve) => setTimeout(resolve, 300));
    const approved = await t.awaitPublished(
      'submissions.submission.approved.v1',
      (e) => e.data.submission_id === id,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(
      (await t.published('submissions.submission.approved.v1')).filter((e) => e.data.submission_id === id),
    ).toHaveLength(1);
    expect(approved[0]!.data).toEqual({
      submission_id: id,
      assignment_id: claim.assignmentId,
      task_id: claim.taskId,
      campaign_id: claim.campaignId,
      contributor_id: claim.contributorId,
      reward: { amount: 77, currency: 'USD' },
      xp_reward: 10,
      method: 'consensus',
    });
    expect((await settled(claim, id, ['in_review'])).status).toBe('approved');
  });

  it('asks for one revision, takes it under the same claim, and makes a second failure final', async () => {
    const task = await t.fixtures.task('text', textInput);
    const claim = await t.fixtures.claim(task);
    // Its own words: the same text handed in before would be rejected as a duplicate.
    const id = await handIn(claim, {
      text: `${sentences.en} The east entrance is closed for repairs this month.`,
    });
    expect((await settled(claim, id)).status).toBe('in_review');
    await verdict(id, { verdict: 'revision', reason_codes: ['TOO_VAGUE'] });
    const asked = await settled(claim, id, ['in_review']);
    expect([asked.status, asked.reason_codes]).toEqual(['revision_requested', ['TOO_VAGUE']]);
    const [requested] = await t.awaitPublished(
      'submissions.submission.revision-requested.v1',
      (e) => e.data.submission_id === id,
    );
    expect(new Date(requested!.data.deadline).getTime()).toBeGreaterThan(Date.now() + 47 * 3_600_000);

    const again = await t.inject({
      method: 'POST',
      url: '/api/v1/submissions',
      token: claim.token,
      body: {
        assignment_id: claim.assignmentId,
        payload: { text: `${sentences.en} The east entrance is closed; use the side door by the car park.` },
        time_spent_seconds: 60,
      },
    });
    expect([again.status, again.body.submission.id, again.body.submission.revision]).toEqual([202, id, 2]);
    expect((await settled(claim, id, ['received', 'revision_requested'])).status).toBe('in_review');
    await t.awaitPublished(
      'submissions.submission.validated.v1',
      (e) => e.data.submission_id === id && e.data.revision === 2,
    );

    await verdict(id, { revision: 1, verdict: 'reject' }); // stale: about the first hand-in
    expect((await settled(claim, id, ['received'])).status).toBe('in_review');
    await verdict(id, { revision: 2, verdict: 'revision', reason_codes: ['STILL_VAGUE'] });
    const final = await settled(claim, id, ['in_review']);
    expect([final.status, final.reason_codes]).toEqual(['rejected', ['STILL_VAGUE']]);
    const [rejected] = await t.awaitPublished(
      'submissions.submission.rejected.v1',
      (e) => e.data.submission_id === id,
    );
    expect(rejected!.data.stage).toBe('revision');
  });

  /** The fraud flags raised on a contributor, as admins list them. */
  async function flagsOf(contributorId: string) {
    const response = await t.inject({
      url: `/api/v1/admin/submissions/flags?contributor_id=${contributorId}`,
      token: await t.token({ role: 'admin' }),
    });
    expect(response.status).toBe(200);
    return (response.body.flags as { signal: string; submission_id: string }[]).map((f) => [
      f.signal,
      f.submission_id,
    ]);
  }

  /** `claim`'s work handed in, screened into review and sent back for a revision. */
  async function revisionAsked(claim: ClaimFixture, recording: Uint8Array): Promise<string> {
    const id = await handIn(claim, { media_id: await upload(claim, recording) });
    expect((await settled(claim, id)).status).toBe('in_review');
    await verdict(id, { verdict: 'revision', reason_codes: ['UNCLEAR'] });
    expect((await settled(claim, id, ['in_review'])).status).toBe('revision_requested');
    return id;
  }

  async function reviseWith(claim: ClaimFixture, recording: Uint8Array): Promise<Seen> {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/submissions',
      token: claim.token,
      body: {
        assignment_id: claim.assignmentId,
        payload: { media_id: await upload(claim, recording) },
        time_spent_seconds: 120,
      },
    });
    expect([response.status, response.body.submission?.revision]).toEqual([202, 2]);
    return settled(claim, response.body.submission.id as string, ['received', 'revision_requested']);
  }

  it('refuses a revision copying work another contributor handed in after its first version, and flags it', async () => {
    const task = await t.fixtures.task('audio');
    const judge = await t.fixtures.claim(task);
    const firstId = await revisionAsked(judge, wavs.speech('16', 22_050));
    // Another contributor's recording, handed in after the judge's first version.
    const other = await t.fixtures.claim(task);
    const otherRecording = wavs.speech('16', 24_000);
    const otherId = await handIn(other, { media_id: await upload(other, otherRecording) });
    expect((await settled(other, otherId)).status).toBe('in_review');

    // The same bytes handed in as the judge's revision.
    const revised = await reviseWith(judge, otherRecording);
    expect([revised.status, revised.reason_codes]).toEqual(['rejected', ['CONTENT_DUPLICATE']]);
    expect(await flagsOf(judge.contributorId)).toEqual([['shared_content', firstId]]);
    expect(await flagsOf(other.contributorId)).toEqual([]);
    expect((await settled(other, otherId)).status).toBe('in_review');
  });

  it('keeps the original the original when its revision hands in the same bytes again after a copy', async () => {
    const task = await t.fixtures.task('audio');
    const author = await t.fixtures.claim(task);
    const recording = wavs.speech('16', 32_000);
    await revisionAsked(author, recording);
    const copier = await t.fixtures.claim(task);
    const copyId = await handIn(copier, { media_id: await upload(copier, recording) });
    expect((await settled(copier, copyId)).reason_codes).toEqual(['CONTENT_DUPLICATE']);

    // The author's content is theirs since their first hand-in, before the copy.
    const revised = await reviseWith(author, recording);
    expect(revised.status).toBe('in_review');
    expect(await flagsOf(author.contributorId)).toEqual([]);
    expect(await flagsOf(copier.contributorId)).toEqual([['shared_content', copyId]]);
  });

  it('says until when a rejection may be appealed: 7 days after it', async () => {
    const { claim, id } = await inReview();
    await verdict(id, { verdict: 'reject', reason_codes: ['WRONG_ANSWER'] });
    await settled(claim, id, ['in_review']);
    const [rejected] = await t.awaitPublished(
      'submissions.submission.rejected.v1',
      (e) => e.data.submission_id === id,
    );
    const row = await t.service.db
      .selectFrom('submissions')
      .select('decided_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(rejected!.data.appealable_until).toBeDefined();
    expect(new Date(rejected!.data.appealable_until!).getTime()).toBe(
      new Date(row.decided_at!).getTime() + APPEAL_WINDOW_MS,
    );

    // A revision never handed in is rejected by the job, at the job's clock.
    const late = await inReview();
    await verdict(late.id, { verdict: 'revision', reason_codes: ['UNCLEAR'] });
    await settled(late.claim, late.id, ['in_review']);
    const at = new Date(Date.now() + 49 * 3_600_000);
    expect(await expireRevisions(t.service.db, at)).toBeGreaterThanOrEqual(1);
    const [expired] = await t.awaitPublished(
      'submissions.submission.rejected.v1',
      (e) => e.data.submission_id === late.id,
    );
    expect(expired!.data.appealable_until).toBe(new Date(at.getTime() + APPEAL_WINDOW_MS).toISOString());
  });

  it('rejects a revision that never came once its deadline passes', async () => {
    const { claim, id } = await inReview();
    await verdict(id, { verdict: 'revision', reason_codes: ['UNCLEAR'] });
    await settled(claim, id, ['in_review']);
    expect(await expireRevisions(t.service.db, new Date(Date.now() + 47 * 3_600_000))).toBe(0);
    expect(await expireRevisions(t.service.db, new Date(Date.now() + 49 * 3_600_000))).toBeGreaterThanOrEqual(
      1,
    );
    const [rejected] = await t.awaitPublished(
      'submissions.submission.rejected.v1',
      (e) => e.data.submission_id === id,
    );
    expect(rejected!.data).toMatchObject({ reason_code: 'REVISION_NOT_SUBMITTED', stage: 'revision' });
  });

  it('goes on past a revision whose expiry fails, and expires it at a later run', async () => {
    const first = await inReview();
    const second = await inReview();
    for (const { claim, id } of [first, second]) {
      await verdict(id, { verdict: 'revision', reason_codes: ['UNCLEAR'] });
      await settled(claim, id, ['in_review']);
    }
    const db = t.service.db;
    const status = async (id: string) =>
      (await db.selectFrom('submissions').select('status').where('id', '=', id).executeTakeFirstOrThrow())
        .status;
    // A fault of ours in the first one's rejection, injected by the database itself.
    const restore = await failRowWrites(db, {
      table: 'submissions',
      column: 'id',
      value: first.id,
      on: 'update',
    });
    const later = new Date(Date.now() + 49 * 3_600_000);
    const logger = createLogger({ name: 'revisions-test', level: 'silent', pretty: false });
    try {
      expect(await expireRevisions(db, later, { logger })).toBeGreaterThanOrEqual(1);
      expect(await status(first.id)).toBe('revision_requested');
      expect(await status(second.id)).toBe('rejected');
    } finally {
      await restore();
    }
    expect(await expireRevisions(db, later, { logger })).toBeGreaterThanOrEqual(1);
    expect(await status(first.id)).toBe('rejected');
  });
});

describe('appeals', () => {
  it('lets the contributor appeal a rejection once; an overturn approves and pays', async () => {
    const claim = await t.fixtures.claim(await t.fixtures.task('validation'));
    const id = await handIn(claim, { option: 'no' });
    await settled(claim, id);
    const appeal = (token = claim.token) =>
      t.inject({
        method: 'POST',
        url: `/api/v1/submissions/${id}/appeal`,
        token,
        body: { reason: 'The audio clearly says no; please listen again.' },
      });

    const early = await appeal();
    expect([early.status, early.body.code]).toEqual([409, 'NOT_REJECTED']);
    await verdict(id, { verdict: 'reject', reason_codes: ['WRONG_ANSWER'] });
    await settled(claim, id, ['in_review']);

    const stranger = await appeal(await t.token({ sub: randomUUID(), role: 'contributor' }));
    expect([stranger.status, stranger.body.code]).toEqual([404, 'SUBMISSION_NOT_FOUND']);
    const filed = await appeal();
    expect([filed.status, filed.body.appeal.status]).toEqual([202, 'open']);
    const twice = await appeal();
    expect([twice.status, twice.body.code]).toEqual([409, 'ALREADY_APPEALED']);
    const [event] = await t.awaitPublished('submissions.appeal.filed.v1', (e) => e.data.submission_id === id);
    expect(event!.data).toMatchObject({
      appeal_id: filed.body.appeal.id,
      company_id: claim.companyId,
      rejected_reason_codes: ['WRONG_ANSWER'],
    });

    await verdict(id, { method: 'appeal', appeal_id: filed.body.appeal.id });
    expect((await settled(claim, id, ['rejected'])).status).toBe('approved');
    const [approved] = await t.awaitPublished(
      'submissions.submission.approved.v1',
      (e) => e.data.submission_id === id,
    );
    expect(approved!.data).toMatchObject({ method: 'appeal', reward: { amount: 150, currency: 'USD' } });
    const [decided] = await t.awaitPublished(
      'submissions.appeal.decided.v1',
      (e) => e.data.submission_id === id,
    );
    expect(decided!.data).toMatchObject({ appeal_id: filed.body.appeal.id, outcome: 'overturned' });
  });

  it('announces an upheld appeal once, and the rejection stands', async () => {
    const claim = await t.fixtures.claim(await t.fixtures.task('validation'));
    const id = await handIn(claim, { option: 'no' });
    await settled(claim, id);
    await verdict(id, { verdict: 'reject', reason_codes: ['WRONG_ANSWER'] });
    await settled(claim, id, ['in_review']);
    const filed = await t.inject({
      method: 'POST',
      url: `/api/v1/submissions/${id}/appeal`,
      token: claim.token,
      body: { reason: 'I chose the right option.' },
    });
    expect(filed.status).toBe(202);
    const upheld = await verdict(id, {
      verdict: 'reject',
      method: 'appeal',
      appeal_id: filed.body.appeal.id,
    });
    await t.deliver(consumerNames.qc, upheld, `${upheld.id}-again`);
    const decided = await t.written(
      'submissions.appeal.decided.v1',
      'appeal_id',
      filed.body.appeal.id as string,
    );
    expect(decided.map((e) => e.data)).toEqual([
      expect.objectContaining({
        appeal_id: filed.body.appeal.id,
        outcome: 'upheld',
        assignment_id: claim.assignmentId,
      }),
    ]);
    const read = await t.inject({ url: `/api/v1/submissions/${id}`, token: claim.token });
    expect(read.body.submission.status).toBe('rejected');
  });
});
