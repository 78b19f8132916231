import { type Outcome, type Row, ROLES, routeKey } from './outcomes.ts';

// The authorization matrix: for every route the gateway documents, what each caller should be
// answered. Columns, in ROLES order:
//   anon   anonymous                   cont   the contributor who owns the things asked about
//   othC   another contributor         judge  a judge (holding the lease of the contributor's work)
//   mgr    the company's manager       view   the company's viewer (by invitation)
//   othCo  another company's manager   key    the company's API key with every scope
//   key-   its API key with company:read only   susp   a suspended user   admin  an admin
// Marks: ok = past authorization (2xx or a domain answer), nf = past authorization, 404 for an id
// nobody has, hid = a 404 that hides whether the thing exists, 401, 403.
// `docs/authz-matrix.md` is generated from this (`pnpm authz:docs`); `e2e/authz/authz.e2e.spec.ts`
// asks every cell through the gateway.

type Extra = Pick<Row, 'note' | 'defects' | 'unchecked'>;

const MARKS: Record<string, Outcome> = {
  ok: 'allow',
  nf: 'missing',
  hid: 'hidden',
  '401': '401',
  '403': '403',
};

function service(name: string, rows: ReadonlyArray<readonly [route: string, marks: string]>): Row[] {
  return rows.map(([route, marks]) => {
    const [method, path] = route.split(' ') as [string, string];
    const list = marks.trim().split(/\s+/);
    if (list.length !== ROLES.length)
      throw new Error(`${route}: ${list.length} marks for ${ROLES.length} callers`);
    const cells = Object.fromEntries(
      ROLES.map((role, i) => {
        const outcome = MARKS[list[i]!];
        if (!outcome) throw new Error(`${route}: unknown mark ${list[i]}`);
        return [role, outcome];
      }),
    ) as Row['cells'];
    return { service: name, method, path, cells, ...EXTRAS[route] };
  });
}

/** Notes, cells not asked, and known defects, by route. */
const EXTRAS: Record<string, Extra> = {
  'GET /healthz': { note: "The gateway's own liveness: public." },
  'GET /readyz': { note: "The gateway's own readiness: public." },
  'POST /auth/refresh': {
    note: 'Public. Asked with a refresh token nobody has: every caller, whatever its bearer, gets the same 401 REFRESH_TOKEN_INVALID (a bearer token is no refresh token).',
  },
  'POST /auth/token': {
    note: 'Public. Asked with an API key nobody has: every caller gets the same 401 API_KEY_INVALID.',
  },
  'POST /auth/login': { note: "Public: asked with the other contributor's real credentials." },
  'POST /api/v1/withdrawals/provider-notifications/paypal': {
    note: "Public: PayPal's webhook, vouched for by PayPal itself, never by a bearer. The platform here pays by hand (no PayPal webhook id), so every caller alike gets 404 NOTIFICATIONS_OFF.",
  },
  'POST /auth/verify-email': {
    note: 'Public: a wrong code is answered 400 OTP_INVALID to every caller alike.',
  },
  'POST /auth/reset-password': {
    note: 'Public: an unknown reset token is answered 400 RESET_TOKEN_INVALID to every caller alike.',
  },
  'POST /auth/logout': {
    note: "Asked last of all: it ends the caller's session. An API key's token logs out too (204).",
  },
  'DELETE /api/v1/users/me': {
    note: "The erasure ends its caller: each cell is asked as a fresh user of the role's shape (a new contributor, a new judge, a new company user, a new viewer of the company).",
    unchecked: {
      admin: 'erasing the one e2e admin would lock every later spec out, and the API makes no second admin.',
    },
  },
  'POST /api/v1/admin/identity/signing-keys/rotate': {
    note: 'Asked after every other cell but logging out (it starts a key rotation).',
  },
  'GET /dev/mailbox': {
    note: 'Public and development-only: identity registers it only outside production and while mail lands in the dev mailbox (services/identity/src/service.ts).',
  },
  'POST /api/v1/invitations/accept': {
    note: 'Asked with an invitation token nobody has: user tokens get 404 INVITATION_NOT_FOUND, API keys 403.',
  },
  'GET /api/v1/wallet': {
    note: "An API key's token is its own principal (`sub` is the key's id): it reads the key's own, empty wallet, never the manager's.",
  },
  'GET /api/v1/wallet/transactions': { note: 'As the wallet: an API key reads its own, empty statement.' },
  'GET /api/v1/submissions/me': {
    note: 'Each caller lists its own submissions; company users and API keys have none.',
  },
  'GET /api/v1/submissions/{id}': {
    note: "The judge reads the contributor's work through its lease of the review; the company (members, keys with submissions:read) through its campaign.",
  },
  'GET /api/v1/media/{id}': {
    note: 'As the submission: the judge through its lease, the company through its campaign.',
  },
  'GET /api/v1/media/{id}/content': {
    note: 'As the submission: the judge through its lease, the company through its campaign.',
  },
  'POST /api/v1/media': {
    note: 'A text file: contributors get past authorization to 415 MEDIA_TYPE_UNSUPPORTED.',
  },
  'POST /api/v1/withdrawals': {
    note: "Asked with the contributor's payout method: another contributor and the judge get 404 METHOD_NOT_FOUND.",
  },
  'GET /api/v1/bundles/{id}/download': {
    note: "A bundle of the campaign's approved work (the contributor's): company members and keys with datasets:read; to anyone else it does not exist.",
  },
  'GET /api/v1/bundles/{id}/downloads': {
    note: "A bundle of the campaign's approved work (the contributor's): company members and keys with datasets:read; to anyone else it does not exist.",
  },
  'GET /api/v1/tasks': {
    note: 'Contributors get their feed; company callers and the admin get past authorization to 400 CAMPAIGN_ID_REQUIRED (their listing needs ?campaign_id).',
  },
  'GET /api/v1/reviews/next': {
    note: 'Judges and the admin lease work (or hear 404 NO_REVIEW_AVAILABLE, an empty queue); everyone else 403 NOT_A_JUDGE.',
  },
  'POST /api/v1/reviews/{id}': { note: "The judge's own lease; to anyone else the review does not exist." },
  'POST /api/v1/reviews/{id}/release': {
    note: "The judge's own lease; to anyone else the review does not exist.",
  },
  'GET /api/v1/users/{id}/stats': {
    note: "A user's public statistics (as on the leaderboards): any authenticated caller.",
  },
  'GET /api/v1/campaigns/{id}': {
    note: 'Contributors are refused 403; another company gets the hiding 404.',
  },
};

// prettier-ignore
export const MATRIX: Row[] = [
  //                                                                                         ano con oth jdg mgr vwr oco key ky- sus adm
  ...service('gateway', [
    ['GET /healthz',                                                                         'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['GET /api/v1/admin/dashboard',                                                          '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /readyz',                                                                          'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
  ]),
  ...service('engagement', [
    ['GET /api/v1/me/time-zone',                                                             '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['PUT /api/v1/me/time-zone',                                                             '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['GET /api/v1/users/{id}/stats',                                                         '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['GET /api/v1/me/progress',                                                              '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['POST /api/v1/admin/badges',                                                            '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/badges',                                                             '401 403 403 403 403 403 403 403 403 401 ok'],
    ['PATCH /api/v1/admin/badges/{id}',                                                      '401 403 403 403 403 403 403 403 403 401 nf'],
    ['DELETE /api/v1/admin/badges/{id}',                                                     '401 403 403 403 403 403 403 403 403 401 nf'],
    ['GET /api/v1/badges',                                                                   '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['GET /api/v1/leaderboards/{period}',                                                    '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['POST /api/v1/admin/missions',                                                          '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/missions',                                                           '401 403 403 403 403 403 403 403 403 401 ok'],
    ['PATCH /api/v1/admin/missions/{id}',                                                    '401 403 403 403 403 403 403 403 403 401 nf'],
    ['GET /api/v1/missions',                                                                 '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['GET /api/v1/me/referral',                                                              '401 ok  ok  ok  403 403 403 403 403 401 ok'],
    ['GET /api/v1/notifications',                                                            '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['GET /api/v1/notifications/stream',                                                     '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['POST /api/v1/notifications/{id}/read',                                                 '401 nf  nf  nf  nf  nf  nf  403 403 401 nf'],
    ['POST /api/v1/notifications/read-all',                                                  '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['POST /api/v1/admin/announcements',                                                     '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/announcements',                                                      '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/engagement/catalog-waits',                                           '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/engagement/catalog-waits/{event_id}/{capability}/dismiss',            '401 403 403 403 403 403 403 403 403 401 nf'],
    ['GET /api/v1/admin/engagement/dead-letters',                                              '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/engagement/dead-letters/{id}/replay',                                 '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/engagement/dead-letters/{id}/dismiss',                                '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/companies/{id}/webhooks',                                                 '401 hid hid hid ok  403 hid ok  hid 401 ok'],
    ['GET /api/v1/companies/{id}/webhooks',                                                  '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['GET /api/v1/companies/{id}/webhooks/{webhook_id}',                                     '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['PATCH /api/v1/companies/{id}/webhooks/{webhook_id}',                                   '401 hid hid hid ok  403 hid ok  hid 401 ok'],
    ['DELETE /api/v1/companies/{id}/webhooks/{webhook_id}',                                  '401 hid hid hid nf  403 hid nf  hid 401 nf'],
    ['POST /api/v1/companies/{id}/webhooks/{webhook_id}/rotate-secret',                      '401 hid hid hid ok  403 hid ok  hid 401 ok'],
    ['GET /api/v1/companies/{id}/webhooks/{webhook_id}/deliveries',                          '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['POST /api/v1/companies/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver', '401 hid hid hid nf  403 hid nf  hid 401 nf'],
    ['POST /api/v1/companies/{id}/webhooks/{webhook_id}/test',                               '401 hid hid hid ok  403 hid ok  hid 401 ok'],
  ]),
  ...service('identity', [
    ['POST /auth/signup',                                                                    'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['POST /auth/login',                                                                     'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['POST /auth/refresh',                                                                   '401 401 401 401 401 401 401 401 401 401 401'],
    ['POST /auth/logout',                                                                    '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['POST /auth/verify-email',                                                              'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['POST /auth/resend-otp',                                                                'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['POST /auth/forgot-password',                                                           'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['POST /auth/reset-password',                                                            'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['POST /auth/token',                                                                     '401 401 401 401 401 401 401 401 401 401 401'],
    ['GET /.well-known/jwks.json',                                                           'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['GET /api/v1/users/me',                                                                 '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['PATCH /api/v1/users/me',                                                               '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['DELETE /api/v1/users/me',                                                              '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['POST /api/v1/companies',                                                               '401 403 403 403 ok  ok  ok  403 403 401 ok'],
    ['GET /api/v1/companies',                                                                '401 ok  ok  ok  ok  ok  ok  403 403 401 ok'],
    ['GET /api/v1/companies/{id}',                                                           '401 hid hid hid ok  ok  hid ok  ok  401 ok'],
    ['GET /api/v1/companies/{id}/members',                                                   '401 hid hid hid ok  ok  hid 403 403 401 ok'],
    ['POST /api/v1/companies/{id}/members',                                                  '401 hid hid hid ok  403 hid 403 403 401 ok'],
    ['DELETE /api/v1/companies/{id}/members/{userId}',                                       '401 hid hid hid nf  403 hid 403 403 401 nf'],
    ['GET /api/v1/companies/{id}/api-keys',                                                  '401 hid hid hid ok  403 hid 403 403 401 ok'],
    ['POST /api/v1/companies/{id}/api-keys',                                                 '401 hid hid hid ok  403 hid 403 403 401 ok'],
    ['DELETE /api/v1/companies/{id}/api-keys/{keyId}',                                       '401 hid hid hid nf  403 hid 403 403 401 nf'],
    ['POST /api/v1/companies/{id}/invitations',                                              '401 hid hid hid ok  403 hid 403 403 401 ok'],
    ['GET /api/v1/companies/{id}/invitations',                                               '401 hid hid hid ok  403 hid 403 403 401 ok'],
    ['DELETE /api/v1/companies/{id}/invitations/{invitationId}',                             '401 hid hid hid nf  403 hid 403 403 401 nf'],
    ['POST /api/v1/invitations/accept',                                                      '401 hid hid hid hid hid hid 403 403 401 hid'],
    ['GET /api/v1/admin/users',                                                              '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/users/{id}',                                                         '401 403 403 403 403 403 403 403 403 401 ok'],
    ['PUT /api/v1/admin/users/{id}/status',                                                  '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/identity/signing-keys',                                              '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/identity/signing-keys/rotate',                                      '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /dev/mailbox',                                                                     'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
  ]),
  ...service('ledger', [
    ['GET /api/v1/wallet',                                                                   '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['GET /api/v1/wallet/transactions',                                                      '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['GET /api/v1/companies/{id}/credits',                                                   '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['POST /api/v1/companies/{id}/topups',                                                   '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/campaigns/{id}/budget',                                                    '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['POST /api/v1/admin/ledger/adjustments',                                                '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/ledger/accounts/{id}',                                               '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/ledger/summary',                                                     '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/ledger/promotions',                                                  '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/ledger/dead-letters',                                                '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/ledger/parked-items',                                                '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/ledger/parked-items/{job}/{item}/retry',                            '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/ledger/dead-letters/{id}/replay',                                   '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/ledger/dead-letters/{id}/dismiss',                                  '401 403 403 403 403 403 403 403 403 401 nf'],
  ]),
  ...service('payouts', [
    ['POST /api/v1/payout-methods',                                                          '401 ok  ok  ok  403 403 403 403 403 401 ok'],
    ['GET /api/v1/payout-methods',                                                           '401 ok  ok  ok  403 403 403 403 403 401 ok'],
    ['DELETE /api/v1/payout-methods/{id}',                                                   '401 ok  hid hid 403 403 403 403 403 401 hid'],
    ['POST /api/v1/withdrawals',                                                             '401 ok  hid hid 403 403 403 403 403 401 403'],
    ['GET /api/v1/withdrawals/me',                                                           '401 ok  ok  ok  403 403 403 403 403 401 403'],
    ['GET /api/v1/withdrawals/{id}',                                                         '401 ok  hid hid hid hid hid hid hid 401 ok'],
    ['POST /api/v1/withdrawals/{id}/cancel',                                                 '401 ok  hid hid 403 403 403 403 403 401 403'],
    ['PUT /api/v1/withdrawals/{id}/process',                                                 '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/withdrawals/provider-notifications/paypal',                               'ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok'],
    ['GET /api/v1/admin/withdrawals',                                                        '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/withdrawals/{id}/approve',                                          '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/withdrawals/{id}/reject',                                           '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/withdrawals/{id}/reconcile',                                        '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/payouts/batch-approve',                                             '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/withdrawals/export',                                                 '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/payouts/dead-letters',                                               '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/payouts/parked-items',                                               '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/payouts/parked-items/{job}/{item}/retry',                           '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/payouts/dead-letters/{id}/replay',                                  '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/payouts/dead-letters/{id}/dismiss',                                 '401 403 403 403 403 403 403 403 403 401 nf'],
  ]),
  ...service('qc', [
    ['GET /api/v1/reviews/next',                                                             '401 403 403 ok  403 403 403 403 403 401 ok'],
    ['POST /api/v1/reviews/{id}',                                                            '401 hid hid ok  hid hid hid hid hid 401 hid'],
    ['POST /api/v1/reviews/{id}/release',                                                    '401 hid hid ok  hid hid hid hid hid 401 hid'],
    ['GET /api/v1/reviews/me/stats',                                                         '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['GET /api/v1/campaigns/{id}/quality',                                                   '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['POST /api/v1/admin/judges',                                                            '401 403 403 403 403 403 403 403 403 401 ok'],
    ['DELETE /api/v1/admin/judges/{user_id}',                                                '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/reviews',                                                            '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/reviews/{id}/decision',                                             '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/reviews/{id}/honeypot',                                             '401 403 403 403 403 403 403 403 403 401 nf'],
    ['GET /api/v1/admin/qc/dead-letters',                                                      '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/qc/dead-letters/{id}/replay',                                         '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/qc/dead-letters/{id}/dismiss',                                        '401 403 403 403 403 403 403 403 403 401 nf'],
  ]),
  ...service('submissions', [
    ['POST /api/v1/submissions',                                                             '401 ok  hid hid 403 403 403 403 403 401 403'],
    ['GET /api/v1/submissions/me',                                                           '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['GET /api/v1/submissions/{id}',                                                         '401 ok  hid ok  ok  ok  hid ok  hid 401 ok'],
    ['GET /api/v1/campaigns/{id}/submissions',                                               '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['GET /api/v1/admin/submissions',                                                        '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/submissions/{id}/appeal',                                                 '401 ok  hid hid 403 403 403 403 403 401 403'],
    ['GET /api/v1/admin/submissions/flags',                                                  '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/campaigns/{id}/bundles',                                                  '401 hid hid hid ok  403 hid ok  hid 401 ok'],
    ['GET /api/v1/campaigns/{id}/bundles',                                                   '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['GET /api/v1/bundles/{id}/download',                                                    '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['GET /api/v1/bundles/{id}/downloads',                                                   '401 hid hid hid ok  ok  hid ok  hid 401 ok'],
    ['POST /api/v1/media',                                                                   '401 ok  ok  ok  403 403 403 403 403 401 403'],
    ['GET /api/v1/media/{id}',                                                               '401 ok  hid ok  ok  ok  hid ok  hid 401 ok'],
    ['GET /api/v1/media/{id}/content',                                                       '401 ok  hid ok  ok  ok  hid ok  hid 401 ok'],
    ['GET /api/v1/admin/submissions/dead-letters',                                           '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/submissions/parked-items',                                           '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/submissions/parked-items/{job}/{item}/retry',                       '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/submissions/dead-letters/{id}/replay',                              '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/submissions/dead-letters/{id}/dismiss',                             '401 403 403 403 403 403 403 403 403 401 nf'],
  ]),
  ...service('tasks', [
    ['POST /api/v1/campaigns',                                                               '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['GET /api/v1/campaigns',                                                                '401 403 403 403 ok  ok  ok  ok  403 401 ok'],
    ['GET /api/v1/campaigns/{id}',                                                           '401 403 403 403 ok  ok  hid ok  hid 401 ok'],
    ['PATCH /api/v1/campaigns/{id}',                                                         '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['POST /api/v1/campaigns/{id}/activate',                                                 '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['POST /api/v1/campaigns/{id}/top-up',                                                   '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['POST /api/v1/campaigns/{id}/pause',                                                    '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['POST /api/v1/campaigns/{id}/resume',                                                   '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['POST /api/v1/campaigns/{id}/cancel',                                                   '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['POST /api/v1/campaigns/{id}/complete',                                                 '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['GET /api/v1/campaigns/{id}/stats',                                                     '401 403 403 403 ok  ok  hid ok  hid 401 ok'],
    ['POST /api/v1/campaigns/{id}/invitations',                                              '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['GET /api/v1/campaigns/{id}/invitations',                                               '401 403 403 403 ok  ok  hid ok  hid 401 ok'],
    ['DELETE /api/v1/campaigns/{id}/invitations/{userId}',                                   '401 403 403 403 nf  403 hid nf  hid 401 nf'],
    ['GET /api/v1/tasks',                                                                    '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['POST /api/v1/tasks',                                                                   '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['GET /api/v1/tasks/{id}',                                                               '401 ok  ok  ok  ok  ok  hid ok  hid 401 ok'],
    ['PUT /api/v1/tasks/{id}',                                                               '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['DELETE /api/v1/tasks/{id}',                                                            '401 403 403 403 ok  403 hid ok  hid 401 ok'],
    ['POST /api/v1/tasks/{id}/claim',                                                        '401 ok  ok  ok  403 403 403 403 403 401 403'],
    ['POST /api/v1/assignments/{id}/release',                                                '401 ok  hid hid hid hid hid hid hid 401 hid'],
    ['GET /api/v1/assignments',                                                              '401 ok  ok  ok  ok  ok  ok  ok  ok  401 ok'],
    ['GET /api/v1/assignments/{id}',                                                         '401 ok  hid hid hid hid hid hid hid 401 ok'],
    ['GET /api/v1/admin/tasks/dead-letters',                                                 '401 403 403 403 403 403 403 403 403 401 ok'],
    ['GET /api/v1/admin/tasks/parked-items',                                                 '401 403 403 403 403 403 403 403 403 401 ok'],
    ['POST /api/v1/admin/tasks/parked-items/{job}/{item}/retry',                             '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/tasks/dead-letters/{id}/replay',                                    '401 403 403 403 403 403 403 403 403 401 nf'],
    ['POST /api/v1/admin/tasks/dead-letters/{id}/dismiss',                                   '401 403 403 403 403 403 403 403 403 401 nf'],
  ]),
];

for (const route of Object.keys(EXTRAS)) {
  if (!MATRIX.some((row) => routeKey(row) === route))
    throw new Error(`EXTRAS names ${route}, which has no row`);
}
