import { randomUUID } from 'node:crypto';
import { foreignEvent } from '@tessera/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerNames } from '../messaging/consumers.ts';
import { submissionsWorkers } from '../service.ts';
import { type ClaimFixture, startTestSubmissions, type TestSubmissions } from '../testing/harness.ts';

let t: TestSubmissions;
let mine: ClaimFixture;
let submissionId: string;

const morning = 'I woke up early, made coffee and read the news before work.';

beforeAll(async () => {
  // Pre-validation off: the submissions stay `received`, as these reads expect.
  t = await startTestSubmissions({}, { workers: { [submissionsWorkers.prevalidation]: false } });
  mine = await t.fixtures.claimed('text');
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/submissions',
    token: mine.token,
    body: { assignment_id: mine.assignmentId, payload: { text: morning }, time_spent_seconds: 60 },
  });
  submissionId = response.body.submission.id;
});

afterAll(async () => {
  await t?.stop();
});

const read = (token: string) => t.inject({ url: `/api/v1/submissions/${submissionId}`, token });

const member = (companyId: string, role: 'manager' | 'viewer' = 'viewer') =>
  t.fixtures.member(companyId, role);

describe('reading submissions', () => {
  it('shows contributors their own work with what to do next, newest first', async () => {
    const response = await t.inject({ url: '/api/v1/submissions/me', token: mine.token });
    expect(response.status).toBe(200);
    expect(response.body.submissions.map((s: { id: string }) => s.id)).toEqual([submissionId]);
    expect(response.body.submissions[0].next_step).toMatch(/checked automatically/);
    const filtered = await t.inject({ url: '/api/v1/submissions/me?status=approved', token: mine.token });
    expect(filtered.body.submissions).toEqual([]);
  });

  it('pages with a cursor', async () => {
    const task = await t.fixtures.task('validation');
    const contributorId = randomUUID();
    let token = '';
    for (let i = 0; i < 3; i++) {
      const claim = await t.fixtures.claim(task, { contributorId });
      token = claim.token;
      await t.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        token,
        body: { assignment_id: claim.assignmentId, payload: { option: 'yes' }, time_spent_seconds: 5 },
      });
    }
    const first = await t.inject({ url: '/api/v1/submissions/me?limit=2', token });
    const second = await t.inject({
      url: `/api/v1/submissions/me?limit=2&cursor=${first.body.next_cursor}`,
      token,
    });
    expect([first.body.submissions.length, second.body.submissions.length, second.body.next_cursor]).toEqual([
      2,
      1,
      null,
    ]);
    const bad = await t.inject({ url: '/api/v1/submissions/me?cursor=nonsense!', token });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('shows one submission to its contributor, never to another contributor (404)', async () => {
    expect((await read(mine.token)).status).toBe(200);
    const stranger = await t.token({ sub: randomUUID(), role: 'contributor' });
    const response = await read(stranger);
    expect([response.status, response.body.code]).toEqual([404, 'SUBMISSION_NOT_FOUND']);
  });

  it('lets a judge read the work only while their lease lasts, the latest lease counting', async () => {
    const judgeId = randomUUID();
    const judge = await t.token({ sub: judgeId, role: 'contributor' });
    const assigned = (leaseEndsInMs: number) =>
      t.deliver(
        consumerNames.qc,
        foreignEvent('qc.review.assigned.v1', {
          review_id: randomUUID(),
          submission_id: submissionId,
          judge_id: judgeId,
          lease_expires_at: new Date(Date.now() + leaseEndsInMs).toISOString(),
        }),
      );
    // A lease already over (released, run out: its announcement handled late) opens nothing.
    await assigned(-1_000);
    expect((await read(judge)).status).toBe(404);
    await assigned(600_000);
    expect((await read(judge)).status).toBe(200);
    // An older, shorter lease handled after it does not end the newer one.
    await assigned(-60_000);
    expect((await read(judge)).status).toBe(200);
    // Once the lease is over, the work is closed to the judge again.
    await t.service.db
      .updateTable('review_access')
      .set({ access_until: new Date(Date.now() - 1) })
      .where('judge_id', '=', judgeId)
      .execute();
    expect((await read(judge)).status).toBe(404);
    // A grant recorded before leases were (no access_until) lasts a day from the grant.
    const grant = (grantedAt: Date) =>
      t.service.db
        .updateTable('review_access')
        .set({ access_until: null, granted_at: grantedAt })
        .where('judge_id', '=', judgeId)
        .execute();
    await grant(new Date(Date.now() - 3_600_000));
    expect((await read(judge)).status).toBe(200);
    await grant(new Date(Date.now() - 25 * 3_600_000));
    expect((await read(judge)).status).toBe(404);
  });

  it('lets a judge QC assigned read the work it reviews', async () => {
    const judgeId = randomUUID();
    const judge = await t.token({ sub: judgeId, role: 'contributor' });
    expect((await read(judge)).status).toBe(404);
    await t.deliver(
      consumerNames.qc,
      foreignEvent('qc.review.assigned.v1', {
        review_id: randomUUID(),
        submission_id: submissionId,
        judge_id: judgeId,
        lease_expires_at: new Date(Date.now() + 600_000).toISOString(),
      }),
    );
    expect((await read(judge)).status).toBe(200);
    // A judge never learns where the work stands: a settled submission (a honeypot) reads like
    // work under review.
    const before = await t.service.db
      .selectFrom('submissions')
      .select(['status', 'reason_codes', 'decided_at'])
      .where('id', '=', submissionId)
      .executeTakeFirstOrThrow();
    await t.service.db
      .updateTable('submissions')
      .set({ status: 'rejected', reason_codes: ['WRONG_ANSWER'], decided_at: new Date() })
      .where('id', '=', submissionId)
      .execute();
    try {
      const asJudge = (await read(judge)).body.submission;
      expect(asJudge).toMatchObject({ status: 'in_review', reason_codes: [], decided_at: null });
      expect((await read(mine.token)).body.submission).toMatchObject({
        status: 'rejected',
        reason_codes: ['WRONG_ANSWER'],
      });
    } finally {
      await t.service.db.updateTable('submissions').set(before).where('id', '=', submissionId).execute();
    }
  });

  it("shows a campaign's submissions to its company's members and API keys with submissions:read, to no other company", async () => {
    const viewer = await member(mine.companyId);
    const list = await t.inject({ url: `/api/v1/campaigns/${mine.campaignId}/submissions`, token: viewer });
    expect([list.status, list.body.submissions.map((s: { id: string }) => s.id)]).toEqual([
      200,
      [submissionId],
    ]);
    expect((await read(viewer)).status).toBe(200);

    const key = t.companyKeyToken(mine.companyId, ['submissions:read']);
    expect(
      (await t.inject({ url: `/api/v1/campaigns/${mine.campaignId}/submissions`, token: key })).status,
    ).toBe(200);
    const wrongScope = t.companyKeyToken(mine.companyId, ['billing:read']);
    expect(
      (await t.inject({ url: `/api/v1/campaigns/${mine.campaignId}/submissions`, token: wrongScope })).status,
    ).toBe(404);

    const outsider = await member(randomUUID(), 'manager');
    const hidden = await t.inject({
      url: `/api/v1/campaigns/${mine.campaignId}/submissions`,
      token: outsider,
    });
    expect([hidden.status, hidden.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
    expect((await read(outsider)).status).toBe(404);
    const unknown = await t.inject({ url: `/api/v1/campaigns/${randomUUID()}/submissions`, token: viewer });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'CAMPAIGN_NOT_FOUND']);
  });

  it('lists everything for admins by status, and nothing for anyone else', async () => {
    const admin = await t.token({ role: 'admin' });
    const response = await t.inject({
      url: '/api/v1/admin/submissions?status=received&limit=100',
      token: admin,
    });
    expect(response.status).toBe(200);
    expect(response.body.submissions.map((s: { id: string }) => s.id)).toContain(submissionId);
    expect((await t.inject({ url: '/api/v1/admin/submissions', token: mine.token })).status).toBe(403);
  });
});
