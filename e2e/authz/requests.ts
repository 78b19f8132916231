import { randomBytes } from 'node:crypto';
import { JOURNEY_PASSWORD } from '../journey/actors.ts';
import type { Fixture } from './roles.ts';

// How each route of the matrix is asked: the concrete path (ids from the fixture, owned by the
// company, the contributor or the judge) and a minimal valid body. Fastify validates the body
// before a route's preHandler authorizes, so every body here must be valid or a refusal would be a
// 400 rather than the 401/403 the matrix is about.

/** An id nobody has: the admin's (or owner's) answer to it is a 404 after authorization. */
export const NOBODY = '0190a5b2-0000-7000-8000-000000000000';
/** A dead letter nobody has (their ids are integers). */
const NO_LETTER = 987654321;
/** A job item nobody parked. */
const NO_ITEM = '00000000-0000-4000-8000-00000000abcd';

export interface CellRequest {
  path: string;
  body?: unknown;
  /** multipart: a small file as `file`. */
  upload?: boolean;
  /** Sends a fresh `Idempotency-Key` (the routes that require one refuse a call without it with a 400). */
  idempotent?: boolean;
}

type Build = (fx: Fixture) => CellRequest;

const usd = (amount: number) => ({ amount, currency: 'USD' });
const unique = () => randomBytes(4).toString('hex');
const p = (path: string, body?: unknown): CellRequest => (body === undefined ? { path } : { path, body });
const once = (request: CellRequest): CellRequest => ({ ...request, idempotent: true });

export const REQUESTS: Record<string, Build> = {
  // gateway
  'GET /healthz': () => p('/healthz'),
  'GET /readyz': () => p('/readyz'),
  'GET /api/v1/admin/dashboard': () => p('/api/v1/admin/dashboard'),

  // engagement
  'GET /api/v1/me/time-zone': () => p('/api/v1/me/time-zone'),
  'PUT /api/v1/me/time-zone': () => p('/api/v1/me/time-zone', { time_zone: 'Africa/Lagos' }),
  'GET /api/v1/users/{id}/stats': (fx) => p(`/api/v1/users/${fx.users.contributor.userId}/stats`),
  'GET /api/v1/me/progress': () => p('/api/v1/me/progress'),
  'POST /api/v1/admin/badges': () =>
    p('/api/v1/admin/badges', {
      code: `authz_${unique()}`,
      name: 'Authz',
      criteria: { type: 'reviews_done', threshold: 1000 },
      xp_bonus: 0,
      active: false,
    }),
  'GET /api/v1/admin/badges': () => p('/api/v1/admin/badges'),
  'PATCH /api/v1/admin/badges/{id}': () => p(`/api/v1/admin/badges/${NOBODY}`, { active: false }),
  'DELETE /api/v1/admin/badges/{id}': () => p(`/api/v1/admin/badges/${NOBODY}`),
  'GET /api/v1/badges': () => p('/api/v1/badges'),
  'GET /api/v1/leaderboards/{period}': () => p('/api/v1/leaderboards/weekly'),
  'POST /api/v1/admin/missions': () =>
    p('/api/v1/admin/missions', {
      code: `authz_${unique()}`,
      title: 'Authz',
      criteria: { type: 'reviews_done', count: 1000 },
      xp_reward: 0,
      active: false,
    }),
  'GET /api/v1/admin/missions': () => p('/api/v1/admin/missions'),
  'PATCH /api/v1/admin/missions/{id}': () => p(`/api/v1/admin/missions/${NOBODY}`, { active: false }),
  'GET /api/v1/missions': () => p('/api/v1/missions'),
  'GET /api/v1/me/referral': () => p('/api/v1/me/referral'),
  'GET /api/v1/notifications': () => p('/api/v1/notifications'),
  'GET /api/v1/notifications/stream': () => p('/api/v1/notifications/stream'),
  'POST /api/v1/notifications/{id}/read': () => p(`/api/v1/notifications/${NOBODY}/read`),
  'POST /api/v1/notifications/read-all': () => p('/api/v1/notifications/read-all'),
  'POST /api/v1/admin/announcements': () =>
    p('/api/v1/admin/announcements', { audience: 'companies', title: 'Authz', body: 'The matrix.' }),
  'GET /api/v1/admin/announcements': () => p('/api/v1/admin/announcements'),
  'GET /api/v1/admin/engagement/catalog-waits': () => p('/api/v1/admin/engagement/catalog-waits'),
  'POST /api/v1/admin/engagement/catalog-waits/{event_id}/{capability}/dismiss': () =>
    p(`/api/v1/admin/engagement/catalog-waits/${NOBODY}/badges/dismiss`, {
      reason: 'explained by the authorization matrix',
    }),
  'GET /api/v1/admin/engagement/dead-letters': () => p('/api/v1/admin/engagement/dead-letters'),
  'POST /api/v1/admin/engagement/dead-letters/{id}/replay': () =>
    p(`/api/v1/admin/engagement/dead-letters/${NO_LETTER}/replay`),
  'POST /api/v1/admin/engagement/dead-letters/{id}/dismiss': () =>
    p(`/api/v1/admin/engagement/dead-letters/${NO_LETTER}/dismiss`, {
      reason: 'explained by the authorization matrix',
    }),
  'POST /api/v1/companies/{id}/webhooks': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/webhooks`, {
      url: 'https://hooks.example.test/authz-cell',
      events: ['bundle.published'],
    }),
  'GET /api/v1/companies/{id}/webhooks': (fx) => p(`/api/v1/companies/${fx.companyId}/webhooks`),
  'GET /api/v1/companies/{id}/webhooks/{webhook_id}': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/webhooks/${fx.webhookId}`),
  'PATCH /api/v1/companies/{id}/webhooks/{webhook_id}': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/webhooks/${fx.webhookId}`, { description: 'authz' }),
  'DELETE /api/v1/companies/{id}/webhooks/{webhook_id}': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/webhooks/${NOBODY}`),
  'POST /api/v1/companies/{id}/webhooks/{webhook_id}/rotate-secret': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/webhooks/${fx.webhookId}/rotate-secret`),
  'GET /api/v1/companies/{id}/webhooks/{webhook_id}/deliveries': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/webhooks/${fx.webhookId}/deliveries`),
  'POST /api/v1/companies/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/webhooks/${fx.webhookId}/deliveries/${NOBODY}/redeliver`),
  'POST /api/v1/companies/{id}/webhooks/{webhook_id}/test': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/webhooks/${fx.webhookId}/test`),

  // identity
  'POST /auth/signup': () =>
    p('/auth/signup', {
      email: `e2e.authz.signup.${unique()}@example.test`,
      password: 'e2e-authz-signup-lantern',
      full_name: 'Authz Signup',
    }),
  // A real login (of the other contributor): a wrong password is refused with a 401 for everyone alike.
  'POST /auth/login': (fx) =>
    p('/auth/login', { email: fx.users.otherContributor.email, password: JOURNEY_PASSWORD }),
  'POST /auth/refresh': () => p('/auth/refresh', { refresh_token: 'A'.repeat(43) }),
  'POST /auth/logout': () => p('/auth/logout'),
  'POST /auth/verify-email': () =>
    p('/auth/verify-email', { email: 'e2e.authz.nobody@example.test', otp: '000000' }),
  'POST /auth/resend-otp': () => p('/auth/resend-otp', { email: 'e2e.authz.nobody@example.test' }),
  'POST /auth/forgot-password': () => p('/auth/forgot-password', { email: 'e2e.authz.nobody@example.test' }),
  'POST /auth/reset-password': () =>
    p('/auth/reset-password', { token: 'A'.repeat(43), new_password: 'e2e-authz-new-password' }),
  'POST /auth/token': () => p('/auth/token', { api_key: `tsk_000000000000_${'A'.repeat(43)}` }),
  'GET /.well-known/jwks.json': () => p('/.well-known/jwks.json'),
  'GET /api/v1/users/me': () => p('/api/v1/users/me'),
  'PATCH /api/v1/users/me': () => p('/api/v1/users/me', { bio: 'authz' }),
  'DELETE /api/v1/users/me': () => p('/api/v1/users/me'),
  'POST /api/v1/companies': () => p('/api/v1/companies', { name: `Authz Co ${unique()}` }),
  'GET /api/v1/companies': () => p('/api/v1/companies'),
  'GET /api/v1/companies/{id}': (fx) => p(`/api/v1/companies/${fx.companyId}`),
  'GET /api/v1/companies/{id}/members': (fx) => p(`/api/v1/companies/${fx.companyId}/members`),
  'POST /api/v1/companies/{id}/members': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/members`, {
      user_id: fx.users.viewer.userId,
      member_role: 'viewer',
    }),
  'DELETE /api/v1/companies/{id}/members/{userId}': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/members/${NOBODY}`),
  'GET /api/v1/companies/{id}/api-keys': (fx) => p(`/api/v1/companies/${fx.companyId}/api-keys`),
  'POST /api/v1/companies/{id}/api-keys': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/api-keys`, { name: 'authz cell', scopes: ['company:read'] }),
  'DELETE /api/v1/companies/{id}/api-keys/{keyId}': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/api-keys/${NOBODY}`),
  'POST /api/v1/companies/{id}/invitations': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/invitations`, {
      email: `e2e.authz.invitee.${unique()}@example.test`,
      member_role: 'viewer',
    }),
  'GET /api/v1/companies/{id}/invitations': (fx) => p(`/api/v1/companies/${fx.companyId}/invitations`),
  'DELETE /api/v1/companies/{id}/invitations/{invitationId}': (fx) =>
    p(`/api/v1/companies/${fx.companyId}/invitations/${NOBODY}`),
  'POST /api/v1/invitations/accept': () => p('/api/v1/invitations/accept', { token: 'A'.repeat(43) }),
  'GET /api/v1/admin/users': () => p('/api/v1/admin/users'),
  'GET /api/v1/admin/users/{id}': (fx) => p(`/api/v1/admin/users/${fx.users.contributor.userId}`),
  'PUT /api/v1/admin/users/{id}/status': (fx) =>
    p(`/api/v1/admin/users/${fx.users.suspended.userId}/status`, {
      status: 'suspended',
      reason: 'authz matrix: still suspended',
    }),
  'GET /api/v1/admin/identity/signing-keys': () => p('/api/v1/admin/identity/signing-keys'),
  'POST /api/v1/admin/identity/signing-keys/rotate': () =>
    p('/api/v1/admin/identity/signing-keys/rotate', { lead_seconds: 3600 }),
  'GET /dev/mailbox': () => p('/dev/mailbox?to=e2e.authz.nobody%40example.test'),

  // ledger
  'GET /api/v1/wallet': () => p('/api/v1/wallet'),
  'GET /api/v1/wallet/transactions': () => p('/api/v1/wallet/transactions'),
  'GET /api/v1/companies/{id}/credits': (fx) => p(`/api/v1/companies/${fx.companyId}/credits`),
  'POST /api/v1/companies/{id}/topups': (fx) =>
    once(p(`/api/v1/companies/${fx.companyId}/topups`, { amount: usd(1), reference: 'authz matrix' })),
  'GET /api/v1/campaigns/{id}/budget': (fx) => p(`/api/v1/campaigns/${fx.campaignId}/budget`),
  'POST /api/v1/admin/ledger/adjustments': (fx) =>
    once(
      p('/api/v1/admin/ledger/adjustments', {
        user_id: fx.users.otherContributor.userId,
        kind: 'bonus',
        amount: usd(1),
        reason: 'authz matrix',
      }),
    ),
  'GET /api/v1/admin/ledger/accounts/{id}': (fx) =>
    p(`/api/v1/admin/ledger/accounts/user:${fx.users.contributor.userId}:available`),
  'GET /api/v1/admin/ledger/summary': () => p('/api/v1/admin/ledger/summary'),
  'GET /api/v1/admin/ledger/promotions': () => p('/api/v1/admin/ledger/promotions'),
  'GET /api/v1/admin/ledger/dead-letters': () => p('/api/v1/admin/ledger/dead-letters'),
  'GET /api/v1/admin/ledger/parked-items': () => p('/api/v1/admin/ledger/parked-items'),
  'POST /api/v1/admin/ledger/parked-items/{job}/{item}/retry': () =>
    p(`/api/v1/admin/ledger/parked-items/transfer-expiry/${NO_ITEM}/retry`),
  'POST /api/v1/admin/ledger/dead-letters/{id}/replay': () =>
    p(`/api/v1/admin/ledger/dead-letters/${NO_LETTER}/replay`),
  'POST /api/v1/admin/ledger/dead-letters/{id}/dismiss': () =>
    p(`/api/v1/admin/ledger/dead-letters/${NO_LETTER}/dismiss`, {
      reason: 'explained by the authorization matrix',
    }),

  // payouts
  'POST /api/v1/payout-methods': () =>
    p('/api/v1/payout-methods', { type: 'paypal', email: `e2e.authz.${unique()}@example.test` }),
  'GET /api/v1/payout-methods': () => p('/api/v1/payout-methods'),
  'DELETE /api/v1/payout-methods/{id}': (fx) => p(`/api/v1/payout-methods/${fx.payoutMethodId}`),
  'POST /api/v1/withdrawals': (fx) =>
    once(p('/api/v1/withdrawals', { amount: usd(500), method_id: fx.payoutMethodId })),
  'GET /api/v1/withdrawals/me': () => p('/api/v1/withdrawals/me'),
  'GET /api/v1/withdrawals/{id}': (fx) => p(`/api/v1/withdrawals/${fx.withdrawalId}`),
  'POST /api/v1/withdrawals/{id}/cancel': (fx) => p(`/api/v1/withdrawals/${fx.withdrawalId}/cancel`),
  'POST /api/v1/withdrawals/provider-notifications/paypal': () =>
    p('/api/v1/withdrawals/provider-notifications/paypal', {
      id: 'WH-AUTHZ',
      event_type: 'PAYMENT.PAYOUTS-ITEM.SUCCEEDED',
      resource: {},
    }),
  'PUT /api/v1/withdrawals/{id}/process': () =>
    p(`/api/v1/withdrawals/${NOBODY}/process`, { status: 'completed', external_transaction_id: 'AUTHZ-1' }),
  'GET /api/v1/admin/withdrawals': () => p('/api/v1/admin/withdrawals'),
  'POST /api/v1/admin/withdrawals/{id}/approve': () => p(`/api/v1/admin/withdrawals/${NOBODY}/approve`),
  'POST /api/v1/admin/withdrawals/{id}/reject': () =>
    p(`/api/v1/admin/withdrawals/${NOBODY}/reject`, { reason_code: 'AUTHZ' }),
  'POST /api/v1/admin/withdrawals/{id}/reconcile': () =>
    p(`/api/v1/admin/withdrawals/${NOBODY}/reconcile`, { outcome: 'failed', provider_reference: 'AUTHZ-1' }),
  'POST /api/v1/admin/payouts/batch-approve': () =>
    p('/api/v1/admin/payouts/batch-approve', { withdrawal_ids: [NOBODY] }),
  'GET /api/v1/admin/withdrawals/export': () =>
    p('/api/v1/admin/withdrawals/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z'),
  'GET /api/v1/admin/payouts/dead-letters': () => p('/api/v1/admin/payouts/dead-letters'),
  'GET /api/v1/admin/payouts/parked-items': () => p('/api/v1/admin/payouts/parked-items'),
  'POST /api/v1/admin/payouts/parked-items/{job}/{item}/retry': () =>
    p(`/api/v1/admin/payouts/parked-items/auto-approve/${NO_ITEM}/retry`),
  'POST /api/v1/admin/payouts/dead-letters/{id}/replay': () =>
    p(`/api/v1/admin/payouts/dead-letters/${NO_LETTER}/replay`),
  'POST /api/v1/admin/payouts/dead-letters/{id}/dismiss': () =>
    p(`/api/v1/admin/payouts/dead-letters/${NO_LETTER}/dismiss`, {
      reason: 'explained by the authorization matrix',
    }),

  // qc
  'GET /api/v1/reviews/next': () => p('/api/v1/reviews/next?type=rlhf'),
  'POST /api/v1/reviews/{id}': (fx) =>
    p(`/api/v1/reviews/${fx.reviewId ?? NOBODY}`, { verdict: 'approve', quality_score: 0.9, reasons: [] }),
  'POST /api/v1/reviews/{id}/release': (fx) => p(`/api/v1/reviews/${fx.reviewId ?? NOBODY}/release`),
  'GET /api/v1/reviews/me/stats': () => p('/api/v1/reviews/me/stats'),
  'GET /api/v1/campaigns/{id}/quality': (fx) => p(`/api/v1/campaigns/${fx.campaignId}/quality`),
  'POST /api/v1/admin/judges': (fx) => p('/api/v1/admin/judges', { user_id: fx.users.judge.userId }),
  'DELETE /api/v1/admin/judges/{user_id}': () => p(`/api/v1/admin/judges/${NOBODY}`),
  'GET /api/v1/admin/reviews': () => p('/api/v1/admin/reviews'),
  'POST /api/v1/admin/reviews/{id}/decision': () =>
    p(`/api/v1/admin/reviews/${NOBODY}/decision`, { verdict: 'approve', reason: 'authz', reason_codes: [] }),
  'POST /api/v1/admin/reviews/{id}/honeypot': () =>
    p(`/api/v1/admin/reviews/${NOBODY}/honeypot`, { verdict: null }),
  'GET /api/v1/admin/qc/dead-letters': () => p('/api/v1/admin/qc/dead-letters'),
  'POST /api/v1/admin/qc/dead-letters/{id}/replay': () =>
    p(`/api/v1/admin/qc/dead-letters/${NO_LETTER}/replay`),
  'POST /api/v1/admin/qc/dead-letters/{id}/dismiss': () =>
    p(`/api/v1/admin/qc/dead-letters/${NO_LETTER}/dismiss`, {
      reason: 'explained by the authorization matrix',
    }),

  // submissions
  'POST /api/v1/submissions': (fx) =>
    p('/api/v1/submissions', {
      assignment_id: fx.assignmentId,
      payload: { media_id: fx.mediaId },
      time_spent_seconds: 30,
    }),
  'GET /api/v1/submissions/me': () => p('/api/v1/submissions/me'),
  'GET /api/v1/submissions/{id}': (fx) => p(`/api/v1/submissions/${fx.submissionId}`),
  'GET /api/v1/campaigns/{id}/submissions': (fx) => p(`/api/v1/campaigns/${fx.campaignId}/submissions`),
  'GET /api/v1/admin/submissions': () => p('/api/v1/admin/submissions'),
  'POST /api/v1/submissions/{id}/appeal': (fx) =>
    p(`/api/v1/submissions/${fx.submissionId}/appeal`, { reason: 'Please listen again.' }),
  'GET /api/v1/admin/submissions/flags': () => p('/api/v1/admin/submissions/flags'),
  'POST /api/v1/campaigns/{id}/bundles': (fx) => p(`/api/v1/campaigns/${fx.campaignId}/bundles`),
  'GET /api/v1/campaigns/{id}/bundles': (fx) => p(`/api/v1/campaigns/${fx.campaignId}/bundles`),
  'GET /api/v1/bundles/{id}/download': (fx) => p(`/api/v1/bundles/${fx.bundleId ?? NOBODY}/download`),
  'GET /api/v1/bundles/{id}/downloads': (fx) => p(`/api/v1/bundles/${fx.bundleId ?? NOBODY}/downloads`),
  'POST /api/v1/media': () => ({ path: '/api/v1/media', upload: true }),
  'GET /api/v1/media/{id}': (fx) => p(`/api/v1/media/${fx.mediaId}`),
  'GET /api/v1/media/{id}/content': (fx) => p(`/api/v1/media/${fx.mediaId}/content`),
  'GET /api/v1/admin/submissions/dead-letters': () => p('/api/v1/admin/submissions/dead-letters'),
  'GET /api/v1/admin/submissions/parked-items': () => p('/api/v1/admin/submissions/parked-items'),
  'POST /api/v1/admin/submissions/parked-items/{job}/{item}/retry': () =>
    p(`/api/v1/admin/submissions/parked-items/revision-expiry/${NO_ITEM}/retry`),
  'POST /api/v1/admin/submissions/dead-letters/{id}/replay': () =>
    p(`/api/v1/admin/submissions/dead-letters/${NO_LETTER}/replay`),
  'POST /api/v1/admin/submissions/dead-letters/{id}/dismiss': () =>
    p(`/api/v1/admin/submissions/dead-letters/${NO_LETTER}/dismiss`, {
      reason: 'explained by the authorization matrix',
    }),

  // tasks
  'POST /api/v1/campaigns': (fx) =>
    p('/api/v1/campaigns', {
      company_id: fx.companyId,
      name: 'Authz cell',
      budget: usd(100),
      target_count: 1,
    }),
  'GET /api/v1/campaigns': () => p('/api/v1/campaigns'),
  'GET /api/v1/campaigns/{id}': (fx) => p(`/api/v1/campaigns/${fx.campaignId}`),
  'PATCH /api/v1/campaigns/{id}': (fx) =>
    p(`/api/v1/campaigns/${fx.spareCampaignId}`, { description: 'authz' }),
  'POST /api/v1/campaigns/{id}/activate': (fx) => p(`/api/v1/campaigns/${fx.spareCampaignId}/activate`),
  'POST /api/v1/campaigns/{id}/top-up': (fx) =>
    p(`/api/v1/campaigns/${fx.spareCampaignId}/top-up`, { amount: usd(1) }),
  'POST /api/v1/campaigns/{id}/pause': (fx) => p(`/api/v1/campaigns/${fx.spareCampaignId}/pause`),
  'POST /api/v1/campaigns/{id}/resume': (fx) => p(`/api/v1/campaigns/${fx.spareCampaignId}/resume`),
  'POST /api/v1/campaigns/{id}/cancel': (fx) => p(`/api/v1/campaigns/${fx.spareCampaignId}/cancel`),
  'POST /api/v1/campaigns/{id}/complete': (fx) => p(`/api/v1/campaigns/${fx.spareCampaignId}/complete`),
  'GET /api/v1/campaigns/{id}/stats': (fx) => p(`/api/v1/campaigns/${fx.campaignId}/stats`),
  'POST /api/v1/campaigns/{id}/invitations': (fx) =>
    p(`/api/v1/campaigns/${fx.campaignId}/invitations`, { user_ids: [fx.users.otherContributor.userId] }),
  'GET /api/v1/campaigns/{id}/invitations': (fx) => p(`/api/v1/campaigns/${fx.campaignId}/invitations`),
  'DELETE /api/v1/campaigns/{id}/invitations/{userId}': (fx) =>
    p(`/api/v1/campaigns/${fx.campaignId}/invitations/${NOBODY}`),
  'GET /api/v1/tasks': () => p('/api/v1/tasks'),
  'POST /api/v1/tasks': (fx) =>
    p('/api/v1/tasks', {
      campaign_id: fx.campaignId,
      task_type: 'audio',
      title: 'Authz cell',
      description: 'A task the matrix publishes.',
      input: { prompt: 'Good evening.', language: 'en' },
      reward: usd(1),
      max_submissions: 1,
    }),
  'GET /api/v1/tasks/{id}': (fx) => p(`/api/v1/tasks/${fx.taskId}`),
  'PUT /api/v1/tasks/{id}': (fx) =>
    p(`/api/v1/tasks/${fx.spareTaskId}`, {
      title: 'Record a greeting',
      description: 'Say the sentence in a quiet room.',
      input: { prompt: 'Good morning, how was your night?', language: 'en' },
      reward: usd(100),
    }),
  'DELETE /api/v1/tasks/{id}': (fx) => p(`/api/v1/tasks/${fx.spareTaskId}`),
  'POST /api/v1/tasks/{id}/claim': (fx) => p(`/api/v1/tasks/${fx.taskId}/claim`),
  'POST /api/v1/assignments/{id}/release': (fx) => p(`/api/v1/assignments/${fx.assignmentId}/release`),
  'GET /api/v1/assignments': () => p('/api/v1/assignments'),
  'GET /api/v1/assignments/{id}': (fx) => p(`/api/v1/assignments/${fx.assignmentId}`),
  'GET /api/v1/admin/tasks/dead-letters': () => p('/api/v1/admin/tasks/dead-letters'),
  'GET /api/v1/admin/tasks/parked-items': () => p('/api/v1/admin/tasks/parked-items'),
  'POST /api/v1/admin/tasks/parked-items/{job}/{item}/retry': () =>
    p(`/api/v1/admin/tasks/parked-items/assignment-expiry/${NO_ITEM}/retry`),
  'POST /api/v1/admin/tasks/dead-letters/{id}/replay': () =>
    p(`/api/v1/admin/tasks/dead-letters/${NO_LETTER}/replay`),
  'POST /api/v1/admin/tasks/dead-letters/{id}/dismiss': () =>
    p(`/api/v1/admin/tasks/dead-letters/${NO_LETTER}/dismiss`, {
      reason: 'explained by the authorization matrix',
    }),
};

/**
 * The routes whose allowed call ends or changes the caller (logging out, erasing the account,
 * rotating the signing keys): asked last, and the erasure as a disposable user of the role's shape.
 */
export const LAST = new Set([
  'POST /auth/logout',
  'DELETE /api/v1/users/me',
  'POST /api/v1/admin/identity/signing-keys/rotate',
]);
export const DISPOSABLE = new Set(['DELETE /api/v1/users/me']);
