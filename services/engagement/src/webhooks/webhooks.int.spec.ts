import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventData, TesseraEvent } from '@tessera/contracts';
import { waitFor } from '@tessera/service-kit/testing';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngagement, type TestEngagement } from '../testing/harness.ts';
import { webhooks as capability, pruneDeliveryLog } from './index.ts';
import { BlockedAddressError, webhookAgent } from './sender.ts';
import { webhookSettings } from './settings.ts';
import { verifySignature } from './signature.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: Date;
}

/** A company's endpoint: answers each path's queued statuses in turn (then 200) and records every request. */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: new Date(),
        });
        const status = this.scripts.get(path)?.shift() ?? 200;
        res
          .writeHead(status, { 'content-type': 'text/plain' })
          .end(status === 200 ? 'ok' : 'internal details');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** A fresh path whose first requests get `statuses`. */
  endpoint(statuses: number[] = []): { url: string; path: string } {
    const path = `/hooks/${randomUUID()}`;
    this.scripts.set(path, [...statuses]);
    return { url: `http://127.0.0.1:${this.port}${path}`, path };
  }

  at(path: string): Received[] {
    return this.received.filter((request) => request.path === path);
  }

  async waitFor(path: string, count: number): Promise<Received[]> {
    return waitFor(async () => (this.at(path).length >= count ? this.at(path) : undefined), {
      timeoutMs: 15_000,
      what: `${count} requests at ${path}`,
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const MAX_ATTEMPTS = 4;
const DISABLE_AFTER_MS = 3_600_000;
/** How far engagement's clock runs ahead of the real one (the health tests move it on). */
let clockShift = 0;
let t: TestEngagement;
const receiver = new Receiver();
const companyId = randomUUID();
const otherCompanyId = randomUUID();
const campaignId = randomUUID();
const managerId = randomUUID();
const viewerId = randomUUID();
let manager: string;
let viewer: string;
let admin: string;
const base = `/api/v1/companies/${companyId}/webhooks`;

beforeAll(async () => {
  await receiver.start();
  t = await startTestEngagement(
    {
      ENGAGEMENT_WEBHOOK_RETRY_BASE_MS: 50,
      ENGAGEMENT_WEBHOOK_INTERVAL_MS: 50,
      ENGAGEMENT_WEBHOOK_MAX_ATTEMPTS: MAX_ATTEMPTS,
      ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: 'true',
      ENGAGEMENT_WEBHOOK_DISABLE_AFTER_MS: DISABLE_AFTER_MS,
    },
    { clock: () => new Date(Date.now() + clockShift) },
  );
  await t.emit('tasks.campaign.created.v1', {
    campaign_id: campaignId,
    company_id: companyId,
    budget: { amount: 100_000, currency: 'USD' },
    target_count: null,
    start_at: null,
    end_at: null,
    is_private: false,
  });
  await t.emit('identity.company.member-added.v1', {
    company_id: companyId,
    user_id: managerId,
    member_role: 'manager',
  });
  await t.emit('identity.company.member-added.v1', {
    company_id: companyId,
    user_id: viewerId,
    member_role: 'viewer',
  });
  manager = await t.token({ sub: managerId, role: 'company' });
  viewer = await t.token({ sub: viewerId, role: 'company' });
  admin = await t.token({ sub: randomUUID(), role: 'admin' });
});
afterAll(async () => {
  await t?.stop();
  await receiver.stop();
});

async function register(
  url: string,
  events: string[] = ['submission.approved'],
  company = companyId,
): Promise<{ id: string; secret: string }> {
  const response = await t.inject({
    method: 'POST',
    url: `/api/v1/companies/${company}/webhooks`,
    token: admin,
    body: { url, events },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { id: response.body.webhook.id, secret: response.body.secret };
}

function approval(overrides: Partial<EventData<'submissions.submission.approved.v1'>> = {}) {
  return t.emit('submissions.submission.approved.v1', {
    submission_id: randomUUID(),
    assignment_id: randomUUID(),
    task_id: randomUUID(),
    campaign_id: campaignId,
    contributor_id: randomUUID(),
    reward: { amount: 150, currency: 'USD' },
    xp_reward: 10,
    ...overrides,
  });
}

async function deliveries(webhookId: string) {
  const response = await t.inject({ url: `${base}/${webhookId}/deliveries`, token: manager });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.deliveries as {
    id: string;
    event_id: string;
    event_type: string;
    status: string;
    attempts: number;
    last_status_code: number | null;
    attempt_log: { attempt: number; status_code: number | null; error: string | null; at: string }[];
  }[];
}

async function settled(webhookId: string, status: string, attempts: number) {
  return waitFor(
    async () => {
      const [delivery] = await deliveries(webhookId);
      return delivery && delivery.status === status && delivery.attempts === attempts ? delivery : undefined;
    },
    { timeoutMs: 15_000, what: `a ${status} delivery after ${attempts} attempts` },
  );
}

async function stored(webhookId: string) {
  return t.service.db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', '=', webhookId)
    .executeTakeFirstOrThrow();
}

async function queuedCount(webhookId: string): Promise<number> {
  const row = await t.service.db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('webhook_id', '=', webhookId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('delivery, retries and signatures', () => {
  let webhook: { id: string; secret: string };
  let endpoint: { url: string; path: string };
  let approved: TesseraEvent<'submissions.submission.approved.v1'>;

  it('a receiver that fails twice gets the third delivery, with a signature that verifies under the secret from creation', async () => {
    endpoint = receiver.endpoint([500, 500]);
    webhook = await register(endpoint.url);
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    approved = await approval();

    const requests = await receiver.waitFor(endpoint.path, 3);
    const third = requests[2]!;
    const check = verifySignature(
      webhook.secret,
      String(third.headers['tessera-signature']),
      third.body,
      new Date(),
    );
    expect(check.ok).toBe(true);
    expect(
      verifySignature(
        webhook.secret,
        String(third.headers['tessera-signature']),
        `${third.body} `,
        new Date(),
      ).ok,
    ).toBe(false);
    expect(third.headers['content-type']).toBe('application/json');
    expect(third.headers['user-agent']).toBe('Tessera-Webhooks/1');
    expect(third.headers['tessera-event']).toBe('submission.approved');
    expect(new Set(requests.map((r) => r.headers['tessera-delivery'])).size).toBe(1);

    const payload = JSON.parse(third.body);
    expect(payload).toEqual({
      id: approved.id,
      type: 'submission.approved',
      created_at: approved.time,
      data: {
        submission_id: approved.data.submission_id,
        task_id: approved.data.task_id,
        campaign_id: campaignId,
        reward: { amount: 150, currency: 'USD' },
      },
    });
    expect(third.body).not.toContain(approved.data.contributor_id);

    // Backed off between attempts: the second came at least the base (50 ms −10 %) after the first.
    expect(requests[1]!.at.getTime() - requests[0]!.at.getTime()).toBeGreaterThanOrEqual(40);
  });

  it('logs the three attempts and never shows the secret', async () => {
    const delivery = await settled(webhook.id, 'delivered', 3);
    expect(delivery.attempt_log.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(delivery.attempt_log[0]!.error).toBe('HTTP 500');
    expect(delivery.attempt_log[2]!.error).toBeNull();
    expect(delivery.event_id).toBe(approved.id);
    const listed = await t.inject({ url: `${base}/${webhook.id}`, token: manager });
    expect(JSON.stringify(listed.body)).not.toContain(webhook.secret);
    const stored = await t.service.db
      .selectFrom('webhooks')
      .selectAll()
      .where('id', '=', webhook.id)
      .executeTakeFirstOrThrow();
    expect(stored.secret_sealed.includes(Buffer.from(webhook.secret))).toBe(false);
  });

  it('redeliver sends it again and appends to the log', async () => {
    const [delivery] = await deliveries(webhook.id);
    const response = await t.inject({
      method: 'POST',
      url: `${base}/${webhook.id}/deliveries/${delivery!.id}/redeliver`,
      token: manager,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body.delivery.status).toBe('pending');
    const requests = await receiver.waitFor(endpoint.path, 4);
    expect(JSON.parse(requests[3]!.body).id).toBe(approved.id);
    expect(requests[3]!.headers['tessera-delivery']).toBe(delivery!.id);
    const after = await settled(webhook.id, 'delivered', 4);
    expect(after.attempt_log.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
  });

  it('a redelivered bus event queues nothing new', async () => {
    expect(await queuedCount(webhook.id)).toBe(1);
    // Published again under another message id: the inbox skips it...
    await t.deliver('engagement-submissions', approved, randomUUID());
    // ...and the handler itself, run twice on the event, still queues one delivery per webhook.
    const handle = capability.handlers!(t.service)['submissions.submission.approved.v1']!;
    for (let i = 0; i < 2; i++) await t.service.db.transaction().execute((trx) => handle(approved, trx));
    expect(await queuedCount(webhook.id)).toBe(1);
    expect(receiver.at(endpoint.path)).toHaveLength(4);
  });

  it('gives up after the last attempt, and a redelivery gets a fresh round', async () => {
    const failing = receiver.endpoint(Array<number>(MAX_ATTEMPTS + 1).fill(503));
    const hook = await register(failing.url);
    await approval();
    const failed = await settled(hook.id, 'failed', MAX_ATTEMPTS);
    expect(failed.last_status_code).toBe(503);
    expect(receiver.at(failing.path)).toHaveLength(MAX_ATTEMPTS);
    await t.inject({
      method: 'POST',
      url: `${base}/${hook.id}/deliveries/${failed.id}/redeliver`,
      token: manager,
    });
    // One more 503 is scripted, then 200.
    const delivered = await settled(hook.id, 'delivered', MAX_ATTEMPTS + 2);
    expect(delivered.attempt_log.map((a) => a.status_code)).toEqual([
      ...Array<number>(MAX_ATTEMPTS + 1).fill(503),
      200,
    ]);
  });

  it('after a rotation, deliveries verify under the new secret and, for a while, the old one', async () => {
    const target = receiver.endpoint();
    const hook = await register(target.url, ['campaign.paused']);
    const rotated = await t.inject({
      method: 'POST',
      url: `${base}/${hook.id}/rotate-secret`,
      token: manager,
    });
    expect(rotated.status).toBe(200);
    const secret = rotated.body.secret as string;
    expect(secret).not.toBe(hook.secret);
    await t.emit('tasks.campaign.paused.v1', {
      campaign_id: campaignId,
      company_id: companyId,
      reason_code: 'manual',
    });
    const [request] = await receiver.waitFor(target.path, 1);
    const header = String(request!.headers['tessera-signature']);
    expect(verifySignature(secret, header, request!.body, new Date()).ok).toBe(true);
    expect(verifySignature(hook.secret, header, request!.body, new Date()).ok).toBe(true);
    expect(JSON.parse(request!.body)).toMatchObject({
      type: 'campaign.paused',
      data: { campaign_id: campaignId, reason: 'manual' },
    });
  });

  it('sends a ping on request', async () => {
    const target = receiver.endpoint();
    const hook = await register(target.url);
    const response = await t.inject({ method: 'POST', url: `${base}/${hook.id}/test`, token: manager });
    expect(response.status).toBe(202);
    const [request] = await receiver.waitFor(target.path, 1);
    expect(request!.headers['tessera-event']).toBe('ping');
    expect(JSON.parse(request!.body)).toMatchObject({ type: 'ping', data: { webhook_id: hook.id } });
  });
});

describe('which events reach which webhooks', () => {
  it('only active webhooks of the campaign’s company subscribed to the event get it', async () => {
    const bundles = await register(receiver.endpoint().url, ['bundle.published']);
    const approvals = await register(receiver.endpoint().url, ['submission.approved']);
    const paused = await register(receiver.endpoint().url, ['bundle.published']);
    await t.inject({ method: 'PATCH', url: `${base}/${paused.id}`, token: manager, body: { active: false } });
    const otherCompany = await register(receiver.endpoint().url, ['bundle.published'], otherCompanyId);

    const bundle = await t.emit('submissions.bundle.published.v1', {
      bundle_id: randomUUID(),
      campaign_id: campaignId,
      company_id: companyId,
      version: 3,
      items: 1200,
      manifest_sha256: 'a'.repeat(64),
    });
    const ofEvent = async (webhookId: string) =>
      t.service.db
        .selectFrom('webhook_deliveries')
        .select(['event_type', 'payload'])
        .where('webhook_id', '=', webhookId)
        .where('event_id', '=', bundle.id)
        .execute();
    const [queued] = await ofEvent(bundles.id);
    expect(queued?.payload.data).toEqual({
      bundle_id: bundle.data.bundle_id,
      campaign_id: campaignId,
      version: 3,
      items: 1200,
      manifest_sha256: 'a'.repeat(64),
    });
    expect(await ofEvent(approvals.id)).toHaveLength(0);
    expect(await ofEvent(paused.id)).toHaveLength(0);
    expect(await ofEvent(otherCompany.id)).toHaveLength(0);
  });

  it('an approval in a campaign engagement has not heard of yet queues nothing (it waits for the campaign)', async () => {
    const before = await t.service.db.selectFrom('webhook_deliveries').select('id').execute();
    await approval({ campaign_id: randomUUID() });
    const after = await t.service.db.selectFrom('webhook_deliveries').select('id').execute();
    expect(after.length).toBe(before.length);
  });
});

describe('managing webhooks', () => {
  const company = randomUUID();
  const url = (path = '') => `/api/v1/companies/${company}/webhooks${path}`;
  const body = { url: 'https://hooks.example.com/tessera', events: ['bundle.published'] };

  it('lets members read, managers and write-scoped keys change, and hides the company from everyone else', async () => {
    const boss = randomUUID();
    const reader = randomUUID();
    await t.emit('identity.company.member-added.v1', {
      company_id: company,
      user_id: boss,
      member_role: 'manager',
    });
    await t.emit('identity.company.member-added.v1', {
      company_id: company,
      user_id: reader,
      member_role: 'billing',
    });
    const bossToken = await t.token({ sub: boss, role: 'company' });
    const readerToken = await t.token({ sub: reader, role: 'company' });

    const created = await t.inject({ method: 'POST', url: url(), token: bossToken, body });
    expect(created.status).toBe(201);
    const id = created.body.webhook.id as string;
    expect(created.body.webhook).toMatchObject({ url: body.url, events: ['bundle.published'], active: true });

    expect((await t.inject({ url: url(), token: readerToken })).body.webhooks).toHaveLength(1);
    const refused = await t.inject({ method: 'POST', url: url(), token: readerToken, body });
    expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
    expect(
      (await t.inject({ method: 'PATCH', url: url(`/${id}`), token: readerToken, body: { active: false } }))
        .status,
    ).toBe(403);

    const readKey = t.companyKeyToken(company, ['webhooks:read']);
    const writeKey = t.companyKeyToken(company, ['webhooks:write']);
    const otherScope = t.companyKeyToken(company, ['campaigns:write']);
    const foreignKey = t.companyKeyToken(randomUUID(), ['webhooks:write']);
    expect((await t.inject({ url: url(`/${id}`), token: readKey })).status).toBe(200);
    expect(
      (await t.inject({ method: 'POST', url: url(`/${id}/rotate-secret`), token: readKey })).status,
    ).toBe(403);
    const patched = await t.inject({
      method: 'PATCH',
      url: url(`/${id}`),
      token: writeKey,
      body: { events: ['bundle.published', 'campaign.paused'], description: 'Data team' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.webhook).toMatchObject({
      events: ['bundle.published', 'campaign.paused'],
      description: 'Data team',
    });

    const stranger = await t.token({ sub: randomUUID(), role: 'company' });
    const contributor = (await t.contributor()).token;
    for (const token of [otherScope, foreignKey, stranger, contributor, viewer]) {
      const hidden = await t.inject({ url: url(), token });
      expect([hidden.status, hidden.body.code]).toEqual([404, 'COMPANY_NOT_FOUND']);
      expect((await t.inject({ method: 'POST', url: url(), token, body })).status).toBe(404);
    }
    expect((await t.inject({ url: url() })).status).toBe(401);
    expect((await t.inject({ url: url(`/${randomUUID()}`), token: bossToken })).body.code).toBe(
      'WEBHOOK_NOT_FOUND',
    );
  });

  it('refuses bad input with 400, not 5xx', async () => {
    for (const bad of [
      { url: 'https://hooks.example.com', events: [] },
      { url: 'https://hooks.example.com', events: ['user.created'] },
      { events: ['bundle.published'] },
    ]) {
      expect((await t.inject({ method: 'POST', url: url(), token: admin, body: bad })).status).toBe(400);
    }
    expect((await t.inject({ url: `/api/v1/companies/not-a-uuid/webhooks`, token: admin })).status).toBe(400);
    expect((await t.inject({ url: `${url()}?cursor=nope`, token: admin })).status).toBe(400);
  });

  it('allows at most 10 active webhooks (409 TOO_MANY_WEBHOOKS), counting reactivations', async () => {
    const crowded = randomUUID();
    const at = `/api/v1/companies/${crowded}/webhooks`;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await t.inject({ method: 'POST', url: at, token: admin, body });
      expect(response.status).toBe(201);
      ids.push(response.body.webhook.id as string);
    }
    const eleventh = await t.inject({ method: 'POST', url: at, token: admin, body });
    expect([eleventh.status, eleventh.body.code]).toEqual([409, 'TOO_MANY_WEBHOOKS']);
    await t.inject({ method: 'PATCH', url: `${at}/${ids[0]}`, token: admin, body: { active: false } });
    const spare = await t.inject({ method: 'POST', url: at, token: admin, body });
    expect(spare.status).toBe(201);
    const back = await t.inject({
      method: 'PATCH',
      url: `${at}/${ids[0]}`,
      token: admin,
      body: { active: true },
    });
    expect([back.status, back.body.code]).toEqual([409, 'TOO_MANY_WEBHOOKS']);
    expect((await t.inject({ method: 'DELETE', url: `${at}/${ids[1]}`, token: admin })).status).toBe(204);
    expect(
      (await t.inject({ method: 'PATCH', url: `${at}/${ids[0]}`, token: admin, body: { active: true } }))
        .status,
    ).toBe(200);
    // Pagination walks all of them once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { webhooks: { id: string }[]; next_cursor: string | null } } = await t.inject({
        url: `${at}?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
        token: admin,
      });
      seen.push(...page.body.webhooks.map((w) => w.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    // 10 registered and the spare, less the deleted one.
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
    expect(seen).not.toContain(ids[1]);
  });

  it('deleting stops deliveries and hides the webhook; its deliveries stay logged', async () => {
    const target = receiver.endpoint(Array<number>(MAX_ATTEMPTS).fill(500));
    const hook = await register(target.url);
    await approval();
    await receiver.waitFor(target.path, 1);
    expect((await t.inject({ method: 'DELETE', url: `${base}/${hook.id}`, token: manager })).status).toBe(
      204,
    );
    const sent = receiver.at(target.path).length;
    expect((await t.inject({ url: `${base}/${hook.id}`, token: manager })).status).toBe(404);
    await approval();
    await new Promise((resolve) => setTimeout(resolve, 400));
    // At most the one attempt that may have been under way when it was deleted.
    expect(receiver.at(target.path).length).toBeLessThanOrEqual(sent + 1);
    const rows = await t.service.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('webhook_id', '=', hook.id)
      .execute();
    expect(rows.map((row) => row.status)).toEqual(['cancelled']);
  });
});

describe('URL rules, without the private-address switch', () => {
  let strict: TestEngagement;
  beforeAll(async () => {
    strict = await startTestEngagement({});
  });
  afterAll(() => strict?.stop());

  it.each([
    ['http://10.0.0.1/hook', 'must use https'],
    ['https://10.0.0.1/hook', 'is a private address'],
    ['https://localhost/hook', 'must not point at a local or internal host name'],
    ['https://169.254.169.254/latest/meta-data', 'is a link-local address (cloud metadata lives here)'],
    ['https://[::1]/hook', 'is a loopback address'],
    [`http://127.0.0.1:${1234}/hook`, 'must use https'],
    ['https://user:secret@hooks.example.com/', 'must not contain credentials'],
    [`https://hooks.example.com/${'a'.repeat(2_100)}`, 'is longer than 2048 characters'],
  ])('refuses %s with 422 INVALID_WEBHOOK_URL', async (bad, reason) => {
    const token = await strict.token({ sub: randomUUID(), role: 'admin' });
    const response = await strict.inject({
      method: 'POST',
      url: `/api/v1/companies/${randomUUID()}/webhooks`,
      token,
      body: { url: bad, events: ['bundle.published'] },
    });
    expect([response.status, response.body.code, response.body.reason]).toEqual([
      422,
      'INVALID_WEBHOOK_URL',
      reason,
    ]);
  });

  it('refuses a private URL in a change as well', async () => {
    const token = await strict.token({ sub: randomUUID(), role: 'admin' });
    const at = `/api/v1/companies/${randomUUID()}/webhooks`;
    const created = await strict.inject({
      method: 'POST',
      url: at,
      token,
      body: { url: 'https://hooks.example.com/in', events: ['bundle.published'] },
    });
    expect(created.status).toBe(201);
    const changed = await strict.inject({
      method: 'PATCH',
      url: `${at}/${created.body.webhook.id}`,
      token,
      body: { url: 'https://192.168.0.10/in' },
    });
    expect([changed.status, changed.body.code]).toEqual([422, 'INVALID_WEBHOOK_URL']);
  });
});

describe('the SSRF guard at delivery time', () => {
  it('refuses to connect when the host resolves to a private address', async () => {
    const agent = webhookAgent({
      ...webhookSettings({ ...t.config, ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE: false }),
    });
    const target = receiver.endpoint();
    try {
      const error = await request(`http://localhost:${receiver.port}${target.path}`, {
        dispatcher: agent,
        method: 'POST',
        body: '{}',
      }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      const cause =
        error instanceof BlockedAddressError ? error : (error as { cause?: unknown } | undefined)?.cause;
      expect(cause ?? error).toBeInstanceOf(BlockedAddressError);
      expect(receiver.at(target.path)).toHaveLength(0);
    } finally {
      await agent.close();
    }
  });
});

describe('a delivery we cannot attempt', () => {
  it('counts each try as a failed attempt and gives up after the last, instead of leasing it forever', async () => {
    const endpoint = receiver.endpoint([200]);
    const hook = await register(endpoint.url);
    // A fault of ours: the stored URL no longer parses (the routes never let such a URL in).
    await t.service.db
      .updateTable('webhooks')
      .set({ url: 'http://[not a host' })
      .where('id', '=', hook.id)
      .execute();
    try {
      await approval();
      const failed = await settled(hook.id, 'failed', MAX_ATTEMPTS);
      expect(failed.attempt_log.map((a) => a.error)).toEqual(
        Array<string>(MAX_ATTEMPTS).fill('the delivery could not be attempted (server side)'),
      );
      expect(receiver.at(endpoint.path)).toHaveLength(0);
      // Our fault says nothing of the receiver: the webhook is not marked failing.
      expect((await stored(hook.id)).failing_since).toBeNull();
    } finally {
      await t.inject({ method: 'DELETE', url: `${base}/${hook.id}`, token: manager });
    }
  });
});

describe('a failing webhook, and the log', () => {
  const webhookUrl = (id: string) => `${base}/${id}`;
  async function shown(id: string) {
    const response = await t.inject({ url: webhookUrl(id), token: manager });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.webhook as {
      active: boolean;
      failing_since: string | null;
      disabled: { reason: string; at: string } | null;
    };
  }
  async function disabledNotices(webhookId: string, token = manager) {
    const response = await t.inject({ url: '/api/v1/notifications', token });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return (
      response.body.notifications as { kind: string; body: string; data: { webhook_id: string } }[]
    ).filter((n) => n.kind === 'webhook_disabled' && n.data.webhook_id === webhookId);
  }

  it('is marked failing from its first failure until a delivery goes through', async () => {
    // Fails a whole round (given up) and the first try of the redelivery, then answers 200.
    const endpoint = receiver.endpoint(Array<number>(MAX_ATTEMPTS + 1).fill(500));
    const hook = await register(endpoint.url);
    const before = new Date(Date.now() + clockShift);
    await approval();
    const failed = await settled(hook.id, 'failed', MAX_ATTEMPTS);
    const marked = await shown(hook.id);
    expect(marked.active).toBe(true);
    expect(marked.disabled).toBeNull();
    // Marked at the first failure, not the last.
    expect(new Date(marked.failing_since!).getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(new Date(marked.failing_since!).getTime()).toBeLessThanOrEqual(
      new Date(failed.attempt_log[0]!.at).getTime(),
    );
    await t.inject({
      method: 'POST',
      url: `${webhookUrl(hook.id)}/deliveries/${failed.id}/redeliver`,
      token: manager,
    });
    await settled(hook.id, 'delivered', MAX_ATTEMPTS + 2);
    expect((await shown(hook.id)).failing_since).toBeNull();
    await t.inject({ method: 'DELETE', url: webhookUrl(hook.id), token: manager });
  });

  let off: { id: string; path: string; waiting: string };

  it('is switched off when a delivery is given up after failing for the whole period, and its managers are told', async () => {
    const endpoint = receiver.endpoint(Array<number>(2 * MAX_ATTEMPTS).fill(503));
    const hook = await register(endpoint.url);
    await approval();
    const first = await settled(hook.id, 'failed', MAX_ATTEMPTS);
    const since = (await shown(hook.id)).failing_since;
    expect(since).not.toBeNull();
    // Given up, but failing for less than the period: still on.
    expect((await shown(hook.id)).active).toBe(true);
    expect(await disabledNotices(hook.id)).toEqual([]);

    clockShift += DISABLE_AFTER_MS;
    await approval();
    await waitFor(async () => ((await shown(hook.id)).active ? undefined : true), {
      timeoutMs: 15_000,
      what: 'the webhook switched off',
    });
    const now = await shown(hook.id);
    expect(now.disabled).toEqual({ reason: 'failing', at: expect.any(String) });
    expect(now.failing_since).toBe(since);
    expect(receiver.at(endpoint.path)).toHaveLength(2 * MAX_ATTEMPTS);
    const notices = await disabledNotices(hook.id);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.body).toContain('127.0.0.1');
    expect(notices[0]!.body).toContain('1 hour');
    // The viewer is not a manager: not told.
    expect(await disabledNotices(hook.id, viewer)).toEqual([]);

    // Switched off: a new event queues nothing for it...
    const queued = await queuedCount(hook.id);
    await approval();
    expect(await queuedCount(hook.id)).toBe(queued);
    // ...and a redelivery by hand waits, unsent, until it is switched on again.
    const waiting = await t.inject({
      method: 'POST',
      url: `${webhookUrl(hook.id)}/deliveries/${first.id}/redeliver`,
      token: manager,
    });
    expect(waiting.status).toBe(202);
    off = { id: hook.id, path: endpoint.path, waiting: first.id };
  });

  it('forgets settled deliveries past the retention, with their attempts, never a waiting one', async () => {
    const settledBefore = await t.service.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'status'])
      .where('webhook_id', '=', off.id)
      .execute();
    expect(settledBefore.map((d) => d.status).sort()).toEqual(['failed', 'pending']);
    const given = settledBefore.find((d) => d.status === 'failed')!.id;

    // The other webhooks' deliveries (the approvals above reached them too) settle first.
    await waitFor(
      async () => {
        const sending = await t.service.db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', '=', 'pending')
          .where('id', '<>', off.waiting)
          .execute();
        return sending.length === 0 ? true : undefined;
      },
      { timeoutMs: 15_000, what: 'every other delivery settled' },
    );

    // Nothing is old enough for a retention of a day.
    const dayAgo = new Date(Date.now() + clockShift - 86_400_000);
    expect(await pruneDeliveryLog(t.service.db, dayAgo)).toBe(0);

    // Everything settled before now is, in batches of 2.
    const now = new Date(Date.now() + clockShift + 1_000);
    let removed = 0;
    for (let batch = await pruneDeliveryLog(t.service.db, now, 2); batch > 0;) {
      expect(batch).toBeLessThanOrEqual(2);
      removed += batch;
      batch = await pruneDeliveryLog(t.service.db, now, 2);
    }
    expect(removed).toBeGreaterThan(2);
    const left = await t.service.db.selectFrom('webhook_deliveries').select(['id', 'status']).execute();
    expect(left.every((d) => d.status === 'pending')).toBe(true);
    expect(left.map((d) => d.id)).toContain(off.waiting);
    const attempts = await t.service.db
      .selectFrom('webhook_delivery_attempts')
      .select('delivery_id')
      .where('delivery_id', '=', given)
      .execute();
    expect(attempts).toEqual([]);
    // The waiting delivery keeps its log.
    const kept = await t.service.db
      .selectFrom('webhook_delivery_attempts')
      .select('attempt')
      .where('delivery_id', '=', off.waiting)
      .execute();
    expect(kept).toHaveLength(MAX_ATTEMPTS);
    // Deleted webhooks whose log is gone are forgotten with their sealed secrets; the rest stay.
    const deleted = await t.service.db
      .selectFrom('webhooks')
      .select('id')
      .where('deleted_at', 'is not', null)
      .execute();
    expect(deleted).toEqual([]);
    expect((await stored(off.id)).id).toBe(off.id);
  });

  it('switched on again, it sends what waited and counts its failing afresh', async () => {
    const response = await t.inject({
      method: 'PATCH',
      url: webhookUrl(off.id),
      token: manager,
      body: { active: true },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.webhook).toMatchObject({ active: true, disabled: null, failing_since: null });
    const requests = await receiver.waitFor(off.path, 2 * MAX_ATTEMPTS + 1);
    expect(requests[2 * MAX_ATTEMPTS]!.headers['tessera-delivery']).toBe(off.waiting);
    await waitFor(
      async () => {
        const [delivery] = await t.service.db
          .selectFrom('webhook_deliveries')
          .select('status')
          .where('id', '=', off.waiting)
          .execute();
        return delivery?.status === 'delivered' ? true : undefined;
      },
      { timeoutMs: 15_000, what: 'the waiting delivery sent' },
    );
    expect((await shown(off.id)).failing_since).toBeNull();
  });
});
