import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { wavs } from '../services/submissions/src/prevalidation/testing/fixtures.ts';
import { gatewayClient, show, usd } from './client.ts';
import { e2eAdmin, type Platform, sharedPlatform } from './platform.ts';

// A company funds and activates a campaign (identity → tasks → ledger → tasks over NATS), publishes
// a task, and a contributor finds it in the feed, claims it, uploads a recording and hands it in
// (tasks → submissions over NATS; pre-validation passes it to review); judges approve it, the ledger
// pays, and engagement awards XP, a level (tasks' eligibility follows) and a notification on the open
// stream: every call goes through the gateway.

let platform: Platform;
const admin = e2eAdmin;
const { call, waitFor, logIn } = gatewayClient(() => platform);

beforeAll(async () => {
  platform = await sharedPlatform();
  await waitFor('identity did not answer through the gateway', 60_000, async () =>
    (await fetch(`${platform.baseUrl}/.well-known/jwks.json`)).ok ? true : undefined,
  );
  // Without a token the services answer 401 themselves (the gateway would say 502).
  for (const path of ['/api/v1/campaigns', '/api/v1/wallet', '/api/v1/submissions/me']) {
    await waitFor(`${path} did not answer through the gateway`, 60_000, async () =>
      (await fetch(`${platform.baseUrl}${path}`)).status === 401 ? true : undefined,
    );
  }
});

async function signUp(role: 'company' | 'contributor'): Promise<{ userId: string; token: string }> {
  const email = `e2e.tasks.${role}.${randomBytes(6).toString('hex')}@example.test`;
  const password = 'e2e-copper-meadow-lantern';
  const signup = await call('POST', '/auth/signup', {
    body: { email, password, full_name: `E2E ${role}`, role },
  });
  expect(signup.status, show(signup)).toBe(201);
  const session = await logIn(email, password);
  // Eligibility reads the country and languages of the profile (identity publishes them).
  const profile = await call('PATCH', '/api/v1/users/me', {
    token: session.token,
    body: { country: 'NG', languages: ['en'] },
  });
  expect(profile.status, show(profile)).toBe(200);
  return session;
}

/** A notification as the stream sends it. */
interface Frame {
  id: string;
  kind: string;
  title: string;
  data?: { submission_id?: string };
}

/** A Server-Sent Events stream read in the background; `next` waits for a matching event's data. */
async function openEventStream(url: string, token: string) {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Frame[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (data) events.push(JSON.parse(data) as Frame);
      }
    }
  })().catch(() => undefined);
  return {
    async next(match: (frame: Frame) => boolean, timeoutMs: number): Promise<Frame> {
      return waitFor('the event never came down the stream', timeoutMs, async () => events.find(match));
    },
    close() {
      abort.abort();
      void reading;
    },
  };
}

describe('a campaign from funding to a contributor’s claim, through the gateway', () => {
  it('funds a campaign, publishes a task; a contributor claims it and hands in a recording, judges approve, the ledger pays, engagement levels them up', async () => {
    const manager = await signUp('company');
    const contributor = await signUp('contributor');
    const root = await logIn(admin.email, admin.password);

    const company = await call('POST', '/api/v1/companies', {
      token: manager.token,
      body: { name: `E2E Tasks Co ${randomBytes(3).toString('hex')}` },
    });
    expect(company.status, show(company)).toBe(201);
    const companyId: string = company.body.company.id;

    // The admin credits the company with 100.00; the campaign's 50.00 plus the 10% fee come from it.
    const topup = await call('POST', `/api/v1/companies/${companyId}/topups`, {
      token: root.token,
      key: `e2e-tasks-${randomUUID()}`,
      body: { amount: usd(10_000), reference: 'e2e wire transfer' },
    });
    expect(topup.status, show(topup)).toBe(201);

    // Tasks learns the membership from identity's events; until then the company is not the
    // manager's to use (404: tasks does not say whether it exists).
    const draft = await waitFor('tasks never saw the membership', 30_000, async () => {
      const reply = await call('POST', '/api/v1/campaigns', {
        token: manager.token,
        body: {
          company_id: companyId,
          name: 'Nigerian English greetings',
          description: 'Short spoken greetings',
          budget: usd(5_000),
          target_count: 20,
        },
      });
      if (reply.status === 201) return reply;
      expect([403, 404], show(reply)).toContain(reply.status);
      return undefined;
    });
    const campaignId: string = draft.body.campaign.id;
    expect(draft.body.campaign).toMatchObject({ status: 'draft', company_id: companyId });

    const activate = await call('POST', `/api/v1/campaigns/${campaignId}/activate`, { token: manager.token });
    expect(activate.status, show(activate)).toBe(202);
    expect(activate.body.campaign.status).toBe('funding');

    // The ledger moves the budget into escrow and answers; tasks activates the campaign.
    const active = await waitFor('the campaign never became active', 30_000, async () => {
      const reply = await call('GET', `/api/v1/campaigns/${campaignId}`, { token: manager.token });
      expect(reply.status, show(reply)).toBe(200);
      return reply.body.campaign.status === 'active' ? reply : undefined;
    });
    expect(active.body.campaign.funded).toEqual(usd(5_000));
    // The ledger's own read side (its projections) follows its event stream, so it may lag a little.
    const budget = await waitFor(
      "the ledger's budget projection never showed the funding",
      15_000,
      async () => {
        const reply = await call('GET', `/api/v1/campaigns/${campaignId}/budget`, { token: manager.token });
        expect(reply.status, show(reply)).toBe(200);
        return reply.body.funded.amount === 5_000 ? reply : undefined;
      },
    );
    expect(budget.body).toMatchObject({ funded: usd(5_000), remaining: usd(5_000) });
    const credits = await call('GET', `/api/v1/companies/${companyId}/credits`, { token: manager.token });
    expect(credits.body.available, show(credits)).toEqual(usd(10_000 - 5_000 - 500));

    const published = await call('POST', '/api/v1/tasks', {
      token: manager.token,
      body: {
        campaign_id: campaignId,
        title: 'Record a greeting',
        description: 'Say the sentence in a quiet room.',
        task_type: 'audio',
        input: { prompt: 'Good morning, how was your night?', language: 'en' },
        reward: usd(150),
        xp_reward: 150,
        judge_fee: usd(20),
        max_submissions: 5,
        required_languages: ['en'],
        regions: ['NG'],
      },
    });
    expect(published.status, show(published)).toBe(201);
    const taskId: string = published.body.task.id;

    // The feed shows the task to an eligible contributor (their languages and country come from
    // identity's events; tasks may not have them yet, so wait).
    const feed = await waitFor('the task never reached the feed', 30_000, async () => {
      const reply = await call('GET', '/api/v1/tasks?type=audio', { token: contributor.token });
      expect(reply.status, show(reply)).toBe(200);
      return reply.body.tasks.some((task: { id: string }) => task.id === taskId) ? reply : undefined;
    });
    const listed = feed.body.tasks.find((task: { id: string }) => task.id === taskId);
    expect(listed).toMatchObject({ id: taskId, reward: usd(150), task_type: 'audio' });
    expect(listed).not.toHaveProperty('golden_answer');

    const claim = await call('POST', `/api/v1/tasks/${taskId}/claim`, { token: contributor.token });
    expect(claim.status, show(claim)).toBe(201);
    expect(claim.body.assignment).toMatchObject({ task_id: taskId, reward: usd(150) });
    expect(Date.parse(claim.body.assignment.expires_at as string)).toBeGreaterThan(Date.now());

    // Claimed: not in the caller's feed any more, and a second claim is refused.
    const after = await call('GET', '/api/v1/tasks?type=audio', { token: contributor.token });
    expect(
      after.body.tasks.some((task: { id: string }) => task.id === taskId),
      show(after),
    ).toBe(false);
    const again = await call('POST', `/api/v1/tasks/${taskId}/claim`, { token: contributor.token });
    expect([again.status, again.body.code], show(again)).toEqual([409, 'ALREADY_CLAIMED']);

    // A company user cannot claim, and a contributor cannot publish.
    const companyClaim = await call('POST', `/api/v1/tasks/${taskId}/claim`, { token: manager.token });
    expect(companyClaim.status, show(companyClaim)).toBe(403);
    const contributorPublish = await call('POST', '/api/v1/tasks', {
      token: contributor.token,
      body: { ...published.body.task, campaign_id: campaignId },
    });
    expect([400, 403], show(contributorPublish)).toContain(contributorPublish.status);

    // A task for level 2 and up: the new contributor (level 1) may not claim it yet.
    const senior = await call('POST', '/api/v1/tasks', {
      token: manager.token,
      body: {
        campaign_id: campaignId,
        title: 'Record a longer greeting',
        description: 'For contributors of level 2 and up.',
        task_type: 'audio',
        input: { prompt: 'Good evening, welcome home.', language: 'en' },
        reward: usd(150),
        min_level: 2,
        max_submissions: 5,
        required_languages: ['en'],
        regions: ['NG'],
      },
    });
    expect(senior.status, show(senior)).toBe(201);
    const seniorId: string = senior.body.task.id;
    const early = await call('POST', `/api/v1/tasks/${seniorId}/claim`, { token: contributor.token });
    expect([early.status, early.body.code], show(early)).toEqual([403, 'TASK_NOT_ELIGIBLE']);

    // The contributor's notification stream, open through the gateway while the work is judged.
    const stream = await openEventStream(
      `${platform.baseUrl}/api/v1/notifications/stream`,
      contributor.token,
    );

    // The contributor uploads a recording (multipart, through the gateway's upload route) and
    // hands it in under the claim; submissions learned the claim from tasks' events.
    const form = new FormData();
    form.append('file', new Blob([wavs.speech()], { type: 'audio/wav' }), 'greeting.wav');
    const uploaded = await fetch(`${platform.baseUrl}/api/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${contributor.token}` },
      body: form,
    });
    const media = (await uploaded.json()) as { media: { id: string; kind: string } };
    expect([uploaded.status, media.media.kind]).toEqual([201, 'audio']);
    const handIn = await waitFor('submissions never heard of the claim', 30_000, async () => {
      const reply = await call('POST', '/api/v1/submissions', {
        token: contributor.token,
        key: `e2e-submit-${randomUUID()}`,
        body: {
          assignment_id: claim.body.assignment.id,
          payload: { media_id: media.media.id },
          time_spent_seconds: 40,
        },
      });
      if (reply.status === 202) return reply;
      expect([reply.status, reply.body.code], show(reply)).toEqual([409, 'ASSIGNMENT_UNKNOWN']);
      return undefined;
    });
    const submissionId: string = handIn.body.submission.id;
    const mine = await waitFor('the submission never passed pre-validation', 30_000, async () => {
      const reply = await call('GET', '/api/v1/submissions/me', { token: contributor.token });
      expect(reply.status, show(reply)).toBe(200);
      const found = (reply.body.submissions as { id: string; status: string }[]).find(
        (s) => s.id === submissionId,
      );
      return found?.status === 'in_review' ? found : undefined;
    });
    expect(mine).toMatchObject({ task_id: taskId, reward: usd(150), payload: { media_id: media.media.id } });

    // Three judges, appointed by the admin, review it through QC: each leases it, reads the work
    // (submissions learned of the lease), and approves. The verdict approves the submission, the
    // ledger pays the reward and each counted review's fee from the campaign's escrow.
    const judges = [await signUp('contributor'), await signUp('contributor'), await signUp('contributor')];
    for (const judge of judges) {
      const appointed = await call('POST', '/api/v1/admin/judges', {
        token: root.token,
        body: { user_id: judge.userId },
      });
      expect(appointed.status, show(appointed)).toBe(200);
      const lease = await waitFor('QC never offered the submission for review', 30_000, async () => {
        const reply = await call('GET', '/api/v1/reviews/next?type=audio', { token: judge.token });
        if (reply.status === 200) return reply;
        expect([reply.status, reply.body.code], show(reply)).toEqual([404, 'NO_REVIEW_AVAILABLE']);
        return undefined;
      });
      expect(lease.body.review).toMatchObject({ submission_id: submissionId, task_type: 'audio' });
      const work = await waitFor('submissions never let the judge read the work', 30_000, async () => {
        const reply = await call('GET', lease.body.review.submission_url as string, { token: judge.token });
        return reply.status === 200 ? reply : undefined;
      });
      expect(work.body.submission).toMatchObject({ id: submissionId, payload: { media_id: media.media.id } });
      const reviewed = await call('POST', `/api/v1/reviews/${lease.body.review.id}`, {
        token: judge.token,
        body: { verdict: 'approve', quality_score: 0.9, reasons: [] },
      });
      expect(reviewed.status, show(reviewed)).toBe(200);
    }
    const approved = await waitFor('the submission was never approved', 30_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${submissionId}`, { token: contributor.token });
      return reply.body.submission?.status === 'approved' ? reply : undefined;
    });
    expect(approved.body.submission).toMatchObject({ status: 'approved' });
    const paid = await waitFor('the reward never reached the wallet', 30_000, async () => {
      const reply = await call('GET', '/api/v1/wallet', { token: contributor.token });
      return reply.body.available?.amount === 150 ? reply : undefined;
    });
    expect(paid.body.total_earned).toEqual(usd(150));
    for (const judge of judges) {
      const fee = await waitFor("a judge's fee never reached their wallet", 30_000, async () => {
        const reply = await call('GET', '/api/v1/wallet', { token: judge.token });
        return reply.body.available?.amount === 20 ? reply : undefined;
      });
      expect(fee.body.available).toEqual(usd(20));
    }
    // Tasks' view of the campaign: the reward and the three fees spent, nothing held any more.
    const settled = await waitFor("tasks' view never settled", 30_000, async () => {
      const reply = await call('GET', `/api/v1/campaigns/${campaignId}/stats`, { token: manager.token });
      return reply.body.spent?.amount === 150 + 3 * 20 && reply.body.reserved?.amount === 0
        ? reply
        : undefined;
    });
    expect(settled.body).toMatchObject({ approved: 1, owed: usd(0) });

    // Engagement: the approval's 150 XP lift the contributor to level 2 (100 XP), the notification
    // arrived on the open stream and stays in the list, and tasks heard of the new level: the
    // level-2 task is theirs to claim now.
    // 150 XP for the task and 25 for the first_task badge it unlocked (a default badge).
    const progress = await waitFor('engagement never counted the approval', 30_000, async () => {
      const reply = await call('GET', '/api/v1/me/progress', { token: contributor.token });
      return reply.body.xp === 175 ? reply : undefined;
    });
    expect(progress.body).toMatchObject({ level: 2, xp: 175 });
    expect(progress.body.badges.map((badge: { code: string }) => badge.code)).toContain('first_task');
    const frame = await stream.next((data) => data.data?.submission_id === submissionId, 30_000);
    expect(frame.title).toEqual(expect.any(String));
    const inbox = await call('GET', '/api/v1/notifications', { token: contributor.token });
    expect(
      inbox.body.notifications.some(
        (n: { data?: { submission_id?: string } }) => n.data?.submission_id === submissionId,
      ),
      show(inbox),
    ).toBe(true);
    stream.close();
    const promoted = await waitFor('tasks never heard of the new level', 30_000, async () => {
      const reply = await call('POST', `/api/v1/tasks/${seniorId}/claim`, { token: contributor.token });
      if (reply.status === 201) return reply;
      expect([reply.status, reply.body.code], show(reply)).toEqual([403, 'TASK_NOT_ELIGIBLE']);
      return undefined;
    });
    expect(promoted.body.assignment).toMatchObject({ task_id: seniorId });
  });
});
