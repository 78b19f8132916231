import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { API_KEY_SCOPES } from '../../services/identity/src/domain/api-keys.ts';
import { type GatewayClient, show, usd } from '../client.ts';
import { journeyActors, type Session } from '../journey/actors.ts';
import type { TaskContent } from '../journey/work.ts';
import { e2eAdmin } from '../platform.ts';
import { type Role, ROLES } from './outcomes.ts';

export { type Role, ROLES };

// The callers of the authorization matrix and the things they own, all made through the gateway
// with the journey's actors: a company (manager, viewer, API keys), another company, two
// contributors, a judge, a suspended user and the admin.

/** Every scope an API key may have. */
export const ALL_SCOPES: readonly string[] = API_KEY_SCOPES;

export interface Fixture {
  /** The bearer token of each role (none for anonymous). */
  tokens: Record<Role, string | undefined>;
  users: {
    admin: Session;
    contributor: Session;
    otherContributor: Session;
    judge: Session;
    manager: Session;
    viewer: Session;
    otherCompany: Session;
    suspended: Session;
  };
  companyId: string;
  otherCompanyId: string;
  /** The company's active campaign with `taskId`, on which the contributor handed in `submissionId`. */
  campaignId: string;
  /** A draft campaign of the company, for the lifecycle commands. */
  spareCampaignId: string;
  taskId: string;
  /** A task of the company's for PUT and DELETE. */
  spareTaskId: string;
  assignmentId: string;
  submissionId: string;
  mediaId: string;
  /** The judge's lease of a review of the contributor's submission, handed in (approved). */
  reviewId: string | undefined;
  payoutMethodId: string;
  withdrawalId: string;
  webhookId: string;
  /** A bundle of the campaign's approved work (the contributor's). */
  bundleId: string | undefined;
  /** A fresh session of a new user in the role's shape, for the calls that end their caller. */
  disposable(role: Role): Promise<string | undefined>;
}

export async function authzFixture(client: GatewayClient, baseUrl: () => string): Promise<Fixture> {
  const { call, waitFor, logIn } = client;
  const actors = journeyActors(client, baseUrl);
  const admin = { ...(await logIn(e2eAdmin.email, e2eAdmin.password)), email: e2eAdmin.email };

  const [manager, viewer, otherCompany, contributor, otherContributor, judge, suspended] = await Promise.all([
    actors.signUp('company', 'authz-manager'),
    actors.signUp('company', 'authz-viewer'),
    actors.signUp('company', 'authz-other-company'),
    actors.signUp('contributor', 'authz-contributor'),
    actors.signUp('contributor', 'authz-other-contributor'),
    actors.signUp('contributor', 'authz-judge'),
    actors.signUp('contributor', 'authz-suspended'),
  ]);
  const [companyId, otherCompanyId] = await Promise.all([
    actors.fundedCompany(manager, admin, 10_000),
    actors.fundedCompany(otherCompany, admin, 1_000),
  ]);
  await actors.appointJudge(admin, judge);
  const [, campaignId] = await Promise.all([
    actors.addMember(manager, companyId, viewer, 'viewer'),
    actors.activeCampaign(manager, companyId, 3_000, 20, { name: 'Authz matrix' }),
  ]);
  const terms = { reward: 100, judgeFee: 10, xp: 10 };
  // One judge (and the admin, on escalation) settles the contributor's work, so that there is a bundle.
  const oneJudge = {
    task_type: 'audio',
    title: 'Record a greeting',
    description: 'Say the sentence in a quiet room.',
    input: { prompt: 'Good morning, how was your night?', language: 'en' },
    judges_required: 1,
    max_judges: 1,
  } as TaskContent;
  const [taskId, spareTaskId] = await Promise.all([
    actors.publishTask(manager, campaignId, oneJudge, terms),
    actors.audioTask(manager, campaignId, terms),
  ]);
  const spare = await call('POST', '/api/v1/campaigns', {
    token: manager.token,
    body: { company_id: companyId, name: 'Authz spare', budget: usd(500), target_count: 5 },
  });
  expect(spare.status, show(spare)).toBe(201);
  const spareCampaignId: string = spare.body.campaign.id;

  const submissionId = await actors.handInRecording(contributor, taskId);
  const submission = await call('GET', `/api/v1/submissions/${submissionId}`, { token: contributor.token });
  const assignmentId: string = submission.body.submission.assignment_id;
  const mediaId: string = submission.body.submission.payload?.media_id ?? submission.body.submission.media_id;

  // The judge leases the contributor's work (the oldest open work first: others' approved on the way).
  let reviewId: string | undefined;
  for (let i = 0; i < 50 && reviewId === undefined; i++) {
    const lease = await call('GET', '/api/v1/reviews/next?type=audio', { token: judge.token });
    if (lease.status !== 200) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      continue;
    }
    if (lease.body.review.submission_id === submissionId) reviewId = lease.body.review.id as string;
    else
      await call('POST', `/api/v1/reviews/${lease.body.review.id}`, {
        token: judge.token,
        body: { verdict: 'approve', quality_score: 0.9, reasons: [] },
      });
  }

  expect(reviewId, "QC never offered the judge the contributor's work").toBeDefined();

  // Money of the contributor's own (an admin bonus) and a withdrawal of part of it.
  const bonus = await call('POST', '/api/v1/admin/ledger/adjustments', {
    token: admin.token,
    key: `authz-bonus-${randomUUID()}`,
    body: { user_id: contributor.userId, kind: 'bonus', amount: usd(2_000), reason: 'authz matrix' },
  });
  expect(bonus.status, show(bonus)).toBeLessThan(300);
  const method = await call('POST', '/api/v1/payout-methods', {
    token: contributor.token,
    body: { type: 'bank_transfer', account_name: 'Authz Owner', iban: 'GB82WEST12345698765432' },
  });
  expect(method.status, show(method)).toBe(201);
  const payoutMethodId: string = method.body.method.id;
  const withdrawal = await waitFor('payouts never took the withdrawal', 30_000, async () => {
    const reply = await call('POST', '/api/v1/withdrawals', {
      token: contributor.token,
      key: `authz-withdraw-${randomUUID()}`,
      body: { amount: usd(600), method_id: payoutMethodId },
    });
    return reply.status === 202 ? reply : undefined;
  });
  const withdrawalId: string = withdrawal.body.withdrawal.id;

  const webhook = await call('POST', `/api/v1/companies/${companyId}/webhooks`, {
    token: manager.token,
    body: { url: 'https://hooks.example.test/authz', events: ['submission.approved'] },
  });
  expect(webhook.status, show(webhook)).toBe(201);
  const webhookId: string = webhook.body.webhook?.id ?? webhook.body.id;

  // The judge approves the work (the matrix's own verdict cell then meets a review already handed in),
  // and the company bundles it.
  let bundleId: string | undefined;
  if (reviewId !== undefined) {
    const verdict = await call('POST', `/api/v1/reviews/${reviewId}`, {
      token: judge.token,
      body: { verdict: 'approve', quality_score: 0.9, reasons: [] },
    });
    expect(verdict.status, show(verdict)).toBe(200);
    // One vote rarely reaches consensus's confidence: the case escalates and the admin approves it.
    await waitFor('the work was never approved', 30_000, async () => {
      const reply = await call('GET', `/api/v1/submissions/${submissionId}`, { token: contributor.token });
      if (reply.body.submission?.status === 'approved') return true;
      const queue = await call('GET', '/api/v1/admin/reviews?status=escalated&limit=100', {
        token: admin.token,
      });
      const item = (queue.body.items as { id: string; submission_id: string }[] | undefined)?.find(
        (i) => i.submission_id === submissionId,
      );
      if (item) {
        await call('POST', `/api/v1/admin/reviews/${item.id}/decision`, {
          token: admin.token,
          body: { verdict: 'approve', reason: 'authz matrix: one judge approved it.', reason_codes: [] },
        });
      }
      return undefined;
    });
    const bundle = await call('POST', `/api/v1/campaigns/${campaignId}/bundles`, {
      token: manager.token,
      key: `authz-bundle-${randomUUID()}`,
    });
    expect(bundle.status, show(bundle)).toBe(201);
    bundleId = bundle.body.bundle.id as string;
  }

  const [apiKey, apiKeyNoScope] = await Promise.all([
    actors.apiKeyToken(manager, companyId, ALL_SCOPES),
    actors.apiKeyToken(manager, companyId, ['company:read']),
  ]);

  const suspension = await call('PUT', `/api/v1/admin/users/${suspended.userId}/status`, {
    token: admin.token,
    body: { status: 'suspended', reason: 'authz matrix: a suspended user' },
  });
  expect(suspension.status, show(suspension)).toBe(200);
  // Every service hears of the revocation within a second or so.
  await waitFor('the suspended token still works', 30_000, async () => {
    const replies = await Promise.all(
      ['/api/v1/users/me', '/api/v1/campaigns', '/api/v1/wallet', '/api/v1/submissions/me'].map((path) =>
        call('GET', path, { token: suspended.token }),
      ),
    );
    return replies.every((r) => r.status === 401) ? true : undefined;
  });

  const tokens: Record<Role, string | undefined> = {
    anonymous: undefined,
    contributor: contributor.token,
    otherContributor: otherContributor.token,
    judge: judge.token,
    manager: manager.token,
    viewer: viewer.token,
    otherCompany: otherCompany.token,
    apiKey,
    apiKeyNoScope,
    suspended: suspended.token,
    admin: admin.token,
  };

  async function disposable(role: Role): Promise<string | undefined> {
    switch (role) {
      case 'contributor':
      case 'otherContributor':
        return (await actors.signUp('contributor', `authz-gone-${randomBytes(2).toString('hex')}`)).token;
      case 'judge': {
        const user = await actors.signUp('contributor', 'authz-gone-judge');
        await actors.appointJudge(admin, user);
        return user.token;
      }
      case 'manager':
      case 'otherCompany':
        return (await actors.signUp('company', `authz-gone-${randomBytes(2).toString('hex')}`)).token;
      case 'viewer': {
        const user = await actors.signUp('company', 'authz-gone-viewer');
        await actors.addMember(manager, companyId, user, 'viewer');
        return user.token;
      }
      default:
        return tokens[role];
    }
  }

  return {
    tokens,
    users: { admin, contributor, otherContributor, judge, manager, viewer, otherCompany, suspended },
    companyId,
    otherCompanyId,
    campaignId,
    spareCampaignId,
    taskId,
    spareTaskId,
    assignmentId,
    submissionId,
    mediaId,
    reviewId,
    payoutMethodId,
    withdrawalId,
    webhookId,
    bundleId,
    disposable,
  };
}
