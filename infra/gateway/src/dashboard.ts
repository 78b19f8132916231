import { ADMIN_SUMMARY_PATH, traceparentOf } from '@tessera/service-kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ServiceTarget } from './config.ts';
import { GatewayError } from './problem.ts';
import type { FetchFn } from './upstreams.ts';

export const DASHBOARD_PATH = '/api/v1/admin/dashboard';

const count = z.number().int().nonnegative();
const money = z.object({ amount: z.number().int(), currency: z.string() });

/**
 * What each service answers for (its own admin summary), as the gateway expects it. A service whose
 * answer does not parse counts as unavailable: the dashboard never shows a figure it cannot vouch for.
 */
const summaries = {
  identity: {
    path: ADMIN_SUMMARY_PATH,
    schema: z.object({
      users: z.object({ active: count, suspended: count, erased: count, active_last_30_days: count }),
      companies: count,
    }),
  },
  tasks: {
    path: ADMIN_SUMMARY_PATH,
    schema: z.object({ active_campaigns: count, active_tasks: count, open_assignments: count }),
  },
  submissions: {
    path: ADMIN_SUMMARY_PATH,
    schema: z.object({
      in_review: count,
      revision_requested: count,
      flagged_submissions: z.object({ total: count, in_review: count }),
      open_appeals: count,
    }),
  },
  qc: {
    path: ADMIN_SUMMARY_PATH,
    schema: z.object({
      pending_reviews: count,
      escalations: count,
      open_appeals: count,
      active_judges: count,
    }),
  },
  payouts: {
    path: ADMIN_SUMMARY_PATH,
    schema: z.object({
      pending_payouts: z.array(z.object({ currency: z.string(), count, amount: z.number().int() })),
      awaiting_review: count,
    }),
  },
  ledger: {
    // The ledger's own admin view of the platform's position (its default currency).
    path: '/api/v1/admin/ledger/summary',
    schema: z.object({
      currency: z.string(),
      user_liability: money,
      user_held: money,
      revenue: money,
      company_credits: money,
      campaign_escrow: money,
      balanced: z.boolean(),
    }),
  },
} as const;

type Summaries = { [K in keyof typeof summaries]: z.infer<(typeof summaries)[K]['schema']> };
type ServiceName = keyof Summaries;
const SERVICES = Object.keys(summaries) as ServiceName[];

type Answer<K extends ServiceName> =
  | { ok: true; summary: Summaries[K] }
  | { ok: false; refused?: { status: 401 | 403; code: string; detail: string } };

/**
 * `GET /api/v1/admin/dashboard`: the platform at a glance for an admin, composed from each service's
 * own admin summary, fetched in parallel with the caller's token (each service checks it: a
 * non-admin is refused by them, and the gateway answers with their refusal). A service that is
 * down, slow or answers something malformed is named in `unavailable` and its figures are null:
 * operators still get the rest.
 */
export function registerDashboard(
  app: FastifyInstance,
  options: { targets: readonly ServiceTarget[]; timeoutMs: number; fetch: FetchFn },
): void {
  const upstreamOf = new Map(options.targets.map((target) => [target.name, target.upstream]));

  async function ask<K extends ServiceName>(request: FastifyRequest, name: K): Promise<Answer<K>> {
    const upstream = upstreamOf.get(name);
    if (!upstream) return { ok: false };
    const { path, schema } = summaries[name];
    const traceparent = request.traceSpan ? traceparentOf(request.traceSpan) : undefined;
    const authorization = request.headers.authorization;
    try {
      const response = await options.fetch(new URL(path, upstream), {
        headers: {
          accept: 'application/json',
          'x-request-id': request.id,
          ...(authorization ? { authorization } : {}),
          ...(traceparent ? { traceparent } : {}),
        },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const body: unknown = await response.json().catch(() => undefined);
      if (response.status === 401 || response.status === 403) {
        const problem = z.object({ code: z.string(), detail: z.string() }).safeParse(body);
        return {
          ok: false,
          refused: {
            status: response.status,
            code: problem.success
              ? problem.data.code
              : response.status === 401
                ? 'UNAUTHENTICATED'
                : 'FORBIDDEN',
            detail: problem.success ? problem.data.detail : 'Refused by an upstream service.',
          },
        };
      }
      const parsed = schema.safeParse(body);
      if (response.ok && parsed.success) return { ok: true, summary: parsed.data as Summaries[K] };
      request.log.warn({ service: name, status: response.status }, 'dashboard: unusable summary');
    } catch (err) {
      request.log.warn({ err, service: name }, 'dashboard: summary unavailable');
    }
    return { ok: false };
  }

  app.get(DASHBOARD_PATH, async (request) => {
    const answers = Object.fromEntries(
      await Promise.all(SERVICES.map(async (name) => [name, await ask(request, name)] as const)),
    ) as { [K in ServiceName]: Answer<K> };
    const refusals = SERVICES.flatMap((name) => (answers[name].ok ? [] : (answers[name].refused ?? [])));
    const refused = refusals.find((r) => r.status === 401) ?? refusals[0];
    if (refused) throw new GatewayError(refused.status, refused.code, refused.detail);

    const got = <K extends ServiceName>(name: K): Summaries[K] | null => {
      const answer = answers[name];
      return answer.ok ? answer.summary : null;
    };
    const identity = got('identity');
    const tasks = got('tasks');
    const submissions = got('submissions');
    const qc = got('qc');
    const payouts = got('payouts');
    const ledger = got('ledger');
    return {
      pending_reviews: qc?.pending_reviews ?? null,
      escalations: qc?.escalations ?? null,
      active_users: identity?.users.active ?? null,
      active_tasks: tasks?.active_tasks ?? null,
      flagged_submissions: submissions?.flagged_submissions ?? null,
      pending_payouts: payouts?.pending_payouts ?? null,
      liability: ledger ? { ...ledger.user_liability, held: ledger.user_held.amount } : null,
      revenue: ledger?.revenue ?? null,
      ledger_balanced: ledger?.balanced ?? null,
      services: { identity, tasks, submissions, qc, payouts, ledger },
      unavailable: SERVICES.filter((name) => !answers[name].ok),
    };
  });
}

/** The dashboard's operation in the merged OpenAPI document. */
export const DASHBOARD_DOC = {
  get: {
    tags: ['gateway'],
    operationId: 'gateway.adminDashboard',
    summary: 'The platform at a glance (admin): composed from every service’s own figures',
    description:
      'Pending reviews and escalations (qc), active users (identity), active tasks (tasks), flagged ' +
      'submissions (submissions), pending payouts per currency (payouts), the liability to contributors ' +
      'and judges (the sum of their wallets) and revenue (ledger, its default currency). A service that ' +
      'does not answer is listed in `unavailable` and its figures are null.',
    security: [{ bearerAuth: [] }],
    responses: {
      '200': {
        description: 'The figures',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['pending_reviews', 'escalations', 'active_users', 'unavailable', 'services'],
              properties: {
                pending_reviews: { type: ['integer', 'null'] },
                escalations: { type: ['integer', 'null'] },
                active_users: { type: ['integer', 'null'] },
                active_tasks: { type: ['integer', 'null'] },
                flagged_submissions: {
                  type: ['object', 'null'],
                  properties: { total: { type: 'integer' }, in_review: { type: 'integer' } },
                },
                pending_payouts: {
                  type: ['array', 'null'],
                  items: {
                    type: 'object',
                    properties: {
                      currency: { type: 'string' },
                      count: { type: 'integer' },
                      amount: { type: 'integer', description: 'minor units' },
                    },
                  },
                },
                liability: {
                  type: ['object', 'null'],
                  properties: {
                    amount: { type: 'integer' },
                    currency: { type: 'string' },
                    held: { type: 'integer', description: 'of which held by pending withdrawals' },
                  },
                },
                revenue: {
                  type: ['object', 'null'],
                  properties: { amount: { type: 'integer' }, currency: { type: 'string' } },
                },
                ledger_balanced: { type: ['boolean', 'null'] },
                services: { type: 'object', description: 'Each service’s own summary, or null' },
                unavailable: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
      '401': { description: 'No or bad token' },
      '403': { description: 'Not an admin' },
    },
  },
} as const;
