import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { hiss, speechLike, wav } from '../../services/submissions/src/prevalidation/testing/fixtures.ts';
import { type GatewayClient, show, usd } from '../client.ts';
import { type TaskContent, type TaskType } from './work.ts';

// The journey's actors, each step through the gateway only (HTTP, as a client of the platform
// would), polling where the platform is eventually consistent. Written for the journey spec, to be
// driven at a larger size by `npm run demo` too.

export interface Session {
  userId: string;
  token: string;
  email: string;
}

export type Verdict = 'approve' | 'reject' | 'revision';

export const JOURNEY_PASSWORD = 'e2e-journey-amber-lantern';

export function journeyActors(client: GatewayClient, baseUrl: () => string) {
  const { call, waitFor, logIn } = client;

  /** A user with a verified email and a profile eligibility reads (Nigeria; English, and `languages`). */
  async function signUp(
    role: 'company' | 'contributor',
    label: string,
    languages: readonly string[] = [],
  ): Promise<Session> {
    const email = `e2e.journey.${label}.${randomBytes(5).toString('hex')}@example.test`;
    const signup = await call('POST', '/auth/signup', {
      body: { email, password: JOURNEY_PASSWORD, full_name: `Journey ${label}`, role },
    });
    expect(signup.status, show(signup)).toBe(201);
    const mail = await call('GET', `/dev/mailbox?to=${encodeURIComponent(email)}`);
    const otp = /\b(\d{6})\b/.exec(mail.body.messages[0].text as string)?.[1];
    const verified = await call('POST', '/auth/verify-email', { body: { email, otp } });
    expect(verified.status, show(verified)).toBe(200);
    const session = await logIn(email, JOURNEY_PASSWORD);
    const profile = await call('PATCH', '/api/v1/users/me', {
      token: session.token,
      body: { country: 'NG', languages: ['en', ...languages.filter((l) => l !== 'en')] },
    });
    expect(profile.status, show(profile)).toBe(200);
    return { ...session, email };
  }

  /** A company of the manager's, credited by the admin with `credits`. */
  async function fundedCompany(manager: Session, admin: Session, credits: number): Promise<string> {
    const company = await call('POST', '/api/v1/companies', {
      token: manager.token,
      body: { name: `Journey Co ${randomBytes(3).toString('hex')}` },
    });
    expect(company.status, show(company)).toBe(201);
    const companyId: string = company.body.company.id;
    const topup = await call('POST', `/api/v1/companies/${companyId}/topups`, {
      token: admin.token,
      key: `journey-topup-${randomUUID()}`,
      body: { amount: usd(credits), reference: 'journey wire transfer' },
    });
    expect(topup.status, show(topup)).toBe(201);
    return companyId;
  }

  /** A campaign with `budget`, activated (funded from the company's credits) and active. */
  async function activeCampaign(
    manager: Session,
    companyId: string,
    budget: number,
    targetCount = 20,
    options: { name?: string; description?: string; isPrivate?: boolean } = {},
  ): Promise<string> {
    const draft = await waitFor('tasks never saw the membership', 30_000, async () => {
      const reply = await call('POST', '/api/v1/campaigns', {
        token: manager.token,
        body: {
          company_id: companyId,
          name: options.name ?? 'Journey greetings',
          description: options.description ?? 'Short spoken greetings',
          budget: usd(budget),
          target_count: targetCount,
          ...(options.isPrivate ? { is_private: true } : {}),
        },
      });
      return reply.status === 201 ? reply : undefined;
    });
    const campaignId: string = draft.body.campaign.id;
    const activate = await call('POST', `/api/v1/campaigns/${campaignId}/activate`, { token: manager.token });
    expect(activate.status, show(activate)).toBe(202);
    await waitFor('the campaign never became active', 30_000, async () => {
      const reply = await call('GET', `/api/v1/campaigns/${campaignId}`, { token: manager.token });
      return reply.body.campaign?.status === 'active' ? true : undefined;
    });
    return campaignId;
  }

  type Terms = { reward: number; judgeFee: number; xp: number; maxSubmissions?: number };

  /** Publishes a task of any type (English speakers in Nigeria) on the campaign. */
  async function publishTask(
    manager: Session,
    campaignId: string,
    content: TaskContent,
    terms: Terms,
  ): Promise<string> {
    const published = await call('POST', '/api/v1/tasks', {
      token: manager.token,
      body: {
        campaign_id: campaignId,
        ...content,
        reward: usd(terms.reward),
        xp_reward: terms.xp,
        judge_fee: usd(terms.judgeFee),
        max_submissions: terms.maxSubmissions ?? 10,
        required_languages: ['en'],
        regions: ['NG'],
      },
    });
    expect(published.status, show(published)).toBe(201);
    return published.body.task.id as string;
  }

  function audioTask(manager: Session, campaignId: string, terms: Terms): Promise<string> {
    return publishTask(
      manager,
      campaignId,
      {
        task_type: 'audio',
        title: 'Record a greeting',
        description: 'Say the sentence in a quiet room.',
        input: { prompt: 'Good morning, how was your night?', language: 'en' },
      },
      terms,
    );
  }

  /** Uploads a file as the contributor's media; returns its id. */
  async function upload(
    contributor: Session,
    bytes: Uint8Array,
    type: string,
    name: string,
  ): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), name);
    const uploaded = await fetch(`${baseUrl()}/api/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${contributor.token}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    return ((await uploaded.json()) as { media: { id: string } }).media.id;
  }

  /** Uploads a generated recording: 8 s of speech of its own (its own seed), or of silence. */
  function uploadRecording(contributor: Session, silent: boolean): Promise<string> {
    // A recording of its own: the very same content twice is refused as a duplicate.
    // Silent: a faint hiss of its own, far below speech (the very same file twice would also be a
    // duplicate and a fraud flag, which is not what this recording is about).
    const seed = randomBytes(4).readUInt32BE();
    const recording = silent
      ? wav([hiss({ seconds: 8, seed, levelDbfs: -70 })], 16_000, '16')
      : wav([speechLike({ seconds: 8, seed })], 16_000, '16');
    return upload(contributor, recording, 'audio/wav', 'greeting.wav');
  }

  /** Claims the task, retrying while tasks does not know the contributor's profile yet. */
  async function claim(contributor: Session, taskId: string): Promise<string> {
    let refusal = '';
    const claimed = await waitFor('the claim was never accepted', 30_000, async () => {
      const reply = await call('POST', `/api/v1/tasks/${taskId}/claim`, { token: contributor.token });
      if (reply.status === 201) return reply;
      refusal = show(reply);
      return undefined;
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message.split('\n')[0]} (last answer: ${refusal})`);
    });
    return claimed.body.assignment.id as string;
  }

  /**
   * Claims the task and hands in what `payload` makes (media it uploads included); waits until the
   * submission reaches `expect`: `in_review` once pre-validation passed it, `rejected` when
   * screening refused it, or a golden task's verdict.
   */
  async function handIn(
    contributor: Session,
    taskId: string,
    payload: () => Promise<Record<string, unknown>>,
    expected: 'in_review' | 'rejected' | 'approved' = 'in_review',
  ): Promise<string> {
    const assignmentId = await claim(contributor, taskId);
    const body = { assignment_id: assignmentId, payload: await payload(), time_spent_seconds: 60 };
    const handedIn = await waitFor('submissions never heard of the claim', 30_000, async () => {
      const reply = await call('POST', '/api/v1/submissions', {
        token: contributor.token,
        key: `journey-submit-${randomUUID()}`,
        body,
      });
      return reply.status === 202 ? reply : undefined;
    });
    const submissionId: string = handedIn.body.submission.id;
    let status = '';
    await waitFor(`the submission never became ${expected}`, 30_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${submissionId}`, { token: contributor.token });
      status = reply.body.submission?.status ?? show(reply);
      return status === expected ? true : undefined;
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message.split('\n')[0]} (it is ${status})`);
    });
    return submissionId;
  }

  /**
   * Claims the task, uploads a generated recording (8 s of speech of its own, or of silence) and
   * hands it in; waits until pre-validation passed it to review (`in_review`) or refused it.
   */
  function handInRecording(
    contributor: Session,
    taskId: string,
    options: { silent?: boolean; expect?: 'in_review' | 'rejected' } = {},
  ): Promise<string> {
    return handIn(
      contributor,
      taskId,
      async () => ({ media_id: await uploadRecording(contributor, options.silent ?? false) }),
      options.expect ?? 'in_review',
    );
  }

  /**
   * The judge leases reviews one after the other until it has reviewed every one of `targets`,
   * reading each work first and voting what `verdictFor` says. QC offers the oldest open work
   * first: work of others still open on the platform (an earlier demo run, other users) is reviewed
   * on the way, approved, so that it never blocks the queue. Returns the targets in the order done.
   */
  async function judgeReviews(
    judge: Session,
    targets: readonly string[],
    verdictFor: (submissionId: string) => Verdict,
    onReviewed?: (submissionId: string) => void,
    type: TaskType = 'audio',
  ): Promise<string[]> {
    const wanted = new Set(targets);
    const reviewed: string[] = [];
    for (let leases = 0; wanted.size > 0; leases++) {
      if (leases > targets.length + 500) throw new Error('QC kept offering other work than the targets');
      const lease = await waitFor('QC never offered a review', 30_000, async () => {
        const reply = await call('GET', `/api/v1/reviews/next?type=${type}`, { token: judge.token });
        return reply.status === 200 ? reply : undefined;
      });
      const submissionId: string = lease.body.review.submission_id;
      await waitFor('submissions never let the judge read the work', 30_000, async () => {
        const reply = await call('GET', lease.body.review.submission_url as string, { token: judge.token });
        return reply.status === 200 ? true : undefined;
      });
      const verdict = wanted.has(submissionId) ? verdictFor(submissionId) : 'approve';
      const review = await call('POST', `/api/v1/reviews/${lease.body.review.id}`, {
        token: judge.token,
        body: {
          approve: { verdict, quality_score: 0.9, reasons: [] },
          reject: {
            verdict,
            quality_score: 0.1,
            reasons: [type === 'audio' ? 'UNCLEAR_AUDIO' : 'LOW_QUALITY'],
          },
          revision: {
            verdict,
            quality_score: 0.5,
            reasons: [type === 'audio' ? 'BACKGROUND_NOISE' : 'INCOMPLETE'],
          },
        }[verdict],
      });
      expect(review.status, show(review)).toBe(200);
      if (wanted.delete(submissionId)) {
        reviewed.push(submissionId);
        onReviewed?.(submissionId);
      }
    }
    return reviewed;
  }

  /** Hands in a new recording for `submissionId`, whose review asked for a revision. */
  async function handInRevision(contributor: Session, submissionId: string): Promise<void> {
    const current = await call('GET', `/api/v1/submissions/${submissionId}`, { token: contributor.token });
    expect(current.body.submission?.status, show(current)).toBe('revision_requested');
    const mediaId = await uploadRecording(contributor, false);
    const again = await call('POST', '/api/v1/submissions', {
      token: contributor.token,
      key: `journey-revision-${randomUUID()}`,
      body: {
        assignment_id: current.body.submission.assignment_id,
        payload: { media_id: mediaId },
        time_spent_seconds: 50,
      },
    });
    expect(again.status, show(again)).toBe(202);
    expect(again.body.submission.id).toBe(submissionId);
    await waitFor('the revision never passed pre-validation', 30_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${submissionId}`, { token: contributor.token });
      return reply.body.submission?.status === 'in_review' ? true : undefined;
    });
  }

  /** The judge reviews `submissionId` with `verdict` (and whatever older work QC offers first). */
  async function reviewOnce(
    judge: Session,
    submissionId: string,
    verdict: Verdict,
    type: TaskType = 'audio',
  ): Promise<void> {
    await judgeReviews(judge, [submissionId], () => verdict, undefined, type);
  }

  /** The admin appoints the user a judge. */
  async function appointJudge(admin: Session, judge: Session): Promise<void> {
    const appointed = await call('POST', '/api/v1/admin/judges', {
      token: admin.token,
      body: { user_id: judge.userId },
    });
    expect(appointed.status, show(appointed)).toBe(200);
  }

  /**
   * The manager invites `member` (signed up as a company user) to the company with `role`; the
   * member accepts the mailed invitation. Resolves once the ledger admits the member to the
   * company's credits, i.e. once every service learned the membership.
   */
  async function addMember(
    manager: Session,
    companyId: string,
    member: Session,
    role: 'admin' | 'manager' | 'viewer',
  ): Promise<void> {
    const invited = await call('POST', `/api/v1/companies/${companyId}/invitations`, {
      token: manager.token,
      body: { email: member.email, member_role: role },
    });
    expect(invited.status, show(invited)).toBe(202);
    const code = await waitFor('the invitation mail never came', 30_000, async () => {
      const mail = await call('GET', `/dev/mailbox?to=${encodeURIComponent(member.email)}`);
      const messages = mail.body.messages as Array<{ kind: string; text: string }>;
      const text = messages.find((m) => m.kind === 'company_invitation')?.text;
      return text ? /token=([A-Za-z0-9_-]{43})/.exec(text)?.[1] : undefined;
    });
    const accepted = await call('POST', '/api/v1/invitations/accept', {
      token: member.token,
      body: { token: code },
    });
    expect(accepted.status, show(accepted)).toBe(201);
    await waitFor('the ledger never admitted the member', 30_000, async () => {
      const reply = await call('GET', `/api/v1/companies/${companyId}/credits`, { token: member.token });
      return reply.status === 200 ? true : undefined;
    });
  }

  /** An API key of the company with `scopes`, exchanged for an access token. */
  async function apiKeyToken(
    manager: Session,
    companyId: string,
    scopes: readonly string[],
  ): Promise<string> {
    const key = await call('POST', `/api/v1/companies/${companyId}/api-keys`, {
      token: manager.token,
      body: { name: 'journey dataset bot', scopes },
    });
    expect(key.status, show(key)).toBe(201);
    const exchanged = await call('POST', '/auth/token', { body: { api_key: key.body.secret } });
    expect(exchanged.status, show(exchanged)).toBe(200);
    return exchanged.body.access_token as string;
  }

  /** Invites contributors to a private campaign. */
  async function inviteToCampaign(manager: Session, campaignId: string, users: Session[]): Promise<void> {
    const invited = await call('POST', `/api/v1/campaigns/${campaignId}/invitations`, {
      token: manager.token,
      body: { user_ids: users.map((u) => u.userId) },
    });
    expect(invited.status, show(invited)).toBe(200);
  }

  /** The manager freezes the campaign's approved work into a bundle and downloads it (a zip). */
  async function downloadBundle(manager: Session, campaignId: string): Promise<Buffer> {
    const bundle = await call('POST', `/api/v1/campaigns/${campaignId}/bundles`, {
      token: manager.token,
      key: `journey-bundle-${randomUUID()}`,
    });
    expect(bundle.status, show(bundle)).toBe(201);
    const download = await fetch(`${baseUrl()}/api/v1/bundles/${bundle.body.bundle.id}/download`, {
      headers: { authorization: `Bearer ${manager.token}` },
    });
    expect(download.status).toBe(200);
    return Buffer.from(await download.arrayBuffer());
  }

  /** The admin settles the escalated case of `submissionId` with `verdict`. */
  async function decideEscalation(admin: Session, submissionId: string, verdict: 'approve' | 'reject') {
    const item = await waitFor('the split never reached the admin queue', 30_000, async () => {
      const reply = await call('GET', '/api/v1/admin/reviews?status=escalated&limit=100', {
        token: admin.token,
      });
      return (reply.body.items as { id: string; submission_id: string }[] | undefined)?.find(
        (i) => i.submission_id === submissionId,
      );
    });
    const decided = await call('POST', `/api/v1/admin/reviews/${item.id}/decision`, {
      token: admin.token,
      body: { verdict, reason: 'The recording is clear enough.', reason_codes: [] },
    });
    expect(decided.status, show(decided)).toBe(200);
  }

  /** The contributor appeals the rejection of `submissionId`; the admin decides it with `verdict`. */
  async function appealDecided(
    contributor: Session,
    admin: Session,
    submissionId: string,
    verdict: 'approve' | 'reject',
  ): Promise<void> {
    const appeal = await call('POST', `/api/v1/submissions/${submissionId}/appeal`, {
      token: contributor.token,
      body: { reason: 'The greeting is clear: please listen to it once more.' },
    });
    expect(appeal.status, show(appeal)).toBe(202);
    const item = await waitFor('the appeal never reached the admin queue', 30_000, async () => {
      const reply = await call('GET', '/api/v1/admin/reviews?status=appealed&limit=100', {
        token: admin.token,
      });
      return (reply.body.items as { id: string; submission_id: string }[] | undefined)?.find(
        (i) => i.submission_id === submissionId,
      );
    });
    const decided = await call('POST', `/api/v1/admin/reviews/${item.id}/decision`, {
      token: admin.token,
      body: { verdict, reason: 'Listened again on appeal.', reason_codes: [] },
    });
    expect(decided.status, show(decided)).toBe(200);
  }

  /** Withdraws `amount` to a new bank account; the admin approves and records the payout. */
  async function withdraw(contributor: Session, admin: Session, amount: number): Promise<string> {
    const method = await call('POST', '/api/v1/payout-methods', {
      token: contributor.token,
      body: { type: 'bank_transfer', account_name: 'Journey Earner', iban: 'GB82WEST12345698765432' },
    });
    expect(method.status, show(method)).toBe(201);
    const key = `journey-withdraw-${randomUUID()}`;
    const requested = await waitFor('payouts never took the withdrawal', 30_000, async () => {
      const reply = await call('POST', '/api/v1/withdrawals', {
        token: contributor.token,
        key,
        body: { amount: usd(amount), method_id: method.body.method.id },
      });
      return reply.status === 202 ? reply : undefined;
    });
    const id: string = requested.body.withdrawal.id;
    await waitFor('the ledger never held the amount', 30_000, async () => {
      const reply = await call('GET', `/api/v1/withdrawals/${id}`, { token: contributor.token });
      return reply.body.withdrawal?.status === 'pending_review' ? true : undefined;
    });
    const approved = await call('POST', '/api/v1/admin/payouts/batch-approve', {
      token: admin.token,
      body: { withdrawal_ids: [id] },
    });
    expect(approved.body, show(approved)).toMatchObject({ approved: 1 });
    const processed = await call('PUT', `/api/v1/withdrawals/${id}/process`, {
      token: admin.token,
      body: { status: 'completed', external_transaction_id: `JOURNEY-${randomBytes(4).toString('hex')}` },
    });
    expect(processed.body.withdrawal, show(processed)).toMatchObject({ status: 'completed' });
    return id;
  }

  return {
    signUp,
    fundedCompany,
    activeCampaign,
    publishTask,
    audioTask,
    upload,
    claim,
    handIn,
    handInRecording,
    appointJudge,
    addMember,
    apiKeyToken,
    inviteToCampaign,
    downloadBundle,
    judgeReviews,
    reviewOnce,
    handInRevision,
    decideEscalation,
    appealDecided,
    withdraw,
  };
}
