import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from './app.ts';
import { loadConfig } from './config.ts';
import { DASHBOARD_PATH } from './dashboard.ts';

// The gateway's composition alone, against stand-in services that answer their summaries as the
// real ones do (e2e/dashboard.e2e.spec.ts runs it against the real services). The stand-ins check
// the token as the services do: `Bearer admin` passes, `Bearer contributor` is refused with 403,
// no token 401.

const figures: Record<string, unknown> = {
  identity: { users: { active: 40, suspended: 2, erased: 1, active_last_30_days: 12 }, companies: 3 },
  tasks: { active_campaigns: 4, active_tasks: 90, open_assignments: 7 },
  submissions: {
    in_review: 11,
    revision_requested: 1,
    flagged_submissions: { total: 5, in_review: 2 },
    open_appeals: 1,
  },
  qc: { pending_reviews: 9, escalations: 2, open_appeals: 1, active_judges: 6 },
  payouts: { pending_payouts: [{ currency: 'USD', count: 3, amount: 12_500 }], awaiting_review: 1 },
  ledger: {
    currency: 'USD',
    user_liability: { amount: 98_000, currency: 'USD' },
    user_held: { amount: 12_500, currency: 'USD' },
    revenue: { amount: 4_321, currency: 'USD' },
    company_credits: { amount: 50_000, currency: 'USD' },
    campaign_escrow: { amount: 20_000, currency: 'USD' },
    promotions_spent: { amount: 0, currency: 'USD' },
    world: { amount: -172_321, currency: 'USD' },
    balanced: true,
  },
};

const upstreams: FastifyInstance[] = [];
/** What each stand-in answers: its summary, or a malformed one, or nothing at all (slow). */
const behaviour: Record<string, 'ok' | 'malformed' | 'slow'> = {};
const seenHeaders: Record<string, Record<string, unknown>> = {};

async function standIn(name: string): Promise<string> {
  const app = Fastify({ logger: false });
  const path = name === 'ledger' ? '/api/v1/admin/ledger/summary' : '/admin/summary';
  app.get(path, async (request, reply) => {
    seenHeaders[name] = request.headers;
    const token = request.headers.authorization;
    if (!token) return reply.code(401).send({ code: 'UNAUTHENTICATED', detail: 'Authentication required.' });
    if (token !== 'Bearer admin')
      return reply.code(403).send({ code: 'FORBIDDEN', detail: 'This needs the role admin.' });
    if (behaviour[name] === 'malformed') return { nonsense: true };
    if (behaviour[name] === 'slow') await new Promise((resolve) => setTimeout(resolve, 3_000));
    return figures[name];
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  upstreams.push(app);
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

let gateway: FastifyInstance;

beforeAll(async () => {
  const routes = [];
  for (const name of Object.keys(figures)) {
    routes.push({ service: name, prefix: `/api/v1/${name}-things`, upstream: await standIn(name) });
  }
  gateway = await buildGateway(
    { ...loadConfig({ NODE_ENV: 'test', GATEWAY_ROUTES: JSON.stringify(routes) }), probeTimeoutMs: 500 },
    { logger: false },
  );
});

afterAll(async () => {
  await gateway?.close();
  for (const app of upstreams) await app.close();
});

async function dashboard(token?: string) {
  const response = await gateway.inject({
    url: DASHBOARD_PATH,
    headers: token ? { authorization: `Bearer ${token}`, 'x-request-id': 'dash-1' } : {},
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

describe('GET /api/v1/admin/dashboard', () => {
  it("composes every service's figures for an admin", async () => {
    const { status, body } = await dashboard('admin');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      pending_reviews: 9,
      escalations: 2,
      active_users: 40,
      active_tasks: 90,
      flagged_submissions: { total: 5, in_review: 2 },
      pending_payouts: [{ currency: 'USD', count: 3, amount: 12_500 }],
      liability: { amount: 98_000, currency: 'USD', held: 12_500 },
      revenue: { amount: 4_321, currency: 'USD' },
      ledger_balanced: true,
      unavailable: [],
    });
    // The caller's token and request id went to each service.
    expect(seenHeaders.qc).toMatchObject({ authorization: 'Bearer admin', 'x-request-id': 'dash-1' });
  });

  it("answers a service's refusal: 403 for a non-admin, 401 without a token", async () => {
    const forbidden = await dashboard('contributor');
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'FORBIDDEN']);
    const anonymous = await dashboard();
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('names a service that is malformed or too slow, and still answers with the rest', async () => {
    behaviour.payouts = 'malformed';
    behaviour.qc = 'slow';
    try {
      const { status, body } = await dashboard('admin');
      expect(status).toBe(200);
      expect(body.unavailable).toEqual(['qc', 'payouts']);
      expect(body).toMatchObject({
        pending_reviews: null,
        escalations: null,
        pending_payouts: null,
        active_users: 40,
      });
    } finally {
      delete behaviour.payouts;
      delete behaviour.qc;
    }
  });

  it('is documented in the merged OpenAPI document', async () => {
    const doc = (await gateway.inject({ url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
    expect(doc.paths[DASHBOARD_PATH]).toHaveProperty('get');
  });
});
