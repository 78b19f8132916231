import { readStream, waitFor } from '@tessera/service-kit/testing';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSession,
  auth,
  countRows,
  inTurnWhileHolding,
  invitationTokenFor,
  joinCompany,
  lockWaiters,
  mailbox,
  signUp,
  type SignedUp,
  startIdentity,
  type TestIdentity,
  uniqueEmail,
  verifyEmail,
} from '../testing/harness.ts';

let t: TestIdentity;
let admin: SignedUp;

beforeAll(async () => {
  t = await startIdentity();
  admin = await adminSession(t);
});
afterAll(async () => t?.stop());

interface CreatedKey {
  api_key: { id: string; prefix: string };
  secret: string;
}

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: unknown) =>
  t.app.inject({ method, url, headers: auth(token), ...(payload ? { payload } : {}) });

async function newCompany(owner: SignedUp, name = 'Acme Data') {
  const response = await call('POST', '/api/v1/companies', owner.access, {
    name,
    logo_url: 'https://acme.test/logo.png',
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().company as { id: string; name: string };
}

/** What the changes of `managedCompany`'s manager act on. */
interface Setting {
  base: string;
  keyId: string;
  invitationId: string;
  viewer: SignedUp;
}

/**
 * A company whose manager `m` (and a viewer) the tests have act, with an API key and an
 * invitation for the changes to revoke.
 */
async function managedCompany(name: string) {
  const owner = await signUp(t, { role: 'company' });
  const company = await newCompany(owner, name);
  const m = await signUp(t, { role: 'company' });
  const viewer = await signUp(t, { role: 'company' });
  for (const user of [m, viewer]) await verifyEmail(t, user);
  await joinCompany(t, owner, company.id, m, 'manager');
  await joinCompany(t, owner, company.id, viewer, 'viewer');
  const base = `/api/v1/companies/${company.id}`;
  const key = await call('POST', `${base}/api-keys`, owner.access, {
    name: 'ci',
    scopes: ['company:read'],
  });
  await call('POST', `${base}/invitations`, owner.access, {
    email: uniqueEmail('later'),
    member_role: 'viewer',
  });
  const setting: Setting = {
    base,
    keyId: key.json<CreatedKey>().api_key.id,
    invitationId: (await call('GET', `${base}/invitations`, owner.access)).json().invitations[0].id,
    viewer,
  };
  return { owner, company, m, viewer, base, setting };
}

describe('companies', () => {
  it('are created by company accounts, their creator the first manager, and announced', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    expect(company).toMatchObject({ name: 'Acme Data', billing_status: 'pending', my_role: 'manager' });
    const mine = await call('GET', '/api/v1/companies', owner.access);
    expect(mine.json().companies.map((c: { id: string }) => c.id)).toEqual([company.id]);

    const events = await waitFor(async () => {
      const all = (await readStream(t.service.bus, 'identity'))
        .map((e) => e.data as { type: string; subject: string; data: object })
        .filter((e) => e.subject === company.id);
      return all.length >= 2 && all;
    });
    expect(events).toMatchObject([
      {
        type: 'identity.company.created.v1',
        data: { company_id: company.id, name: 'Acme Data', created_by: owner.id },
      },
      { type: 'identity.company.member-added.v1', data: { user_id: owner.id, member_role: 'manager' } },
    ]);
  });

  it('are created once per Idempotency-Key; the key with another body is refused', async () => {
    const owner = await signUp(t, { role: 'company' });
    const create = (name: string, key: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/companies',
        headers: { ...auth(owner.access), 'idempotency-key': key },
        payload: { name },
      });
    const before = await countRows(t, 'companies');
    const [first, second] = await Promise.all([
      create('Once Ltd', 'create-1'),
      create('Once Ltd', 'create-1'),
    ]);
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(second.json()).toEqual(first.json());
    expect(await countRows(t, 'companies')).toBe(before + 1);
    const reused = await create('Twice Ltd', 'create-1');
    expect([reused.statusCode, reused.json().code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect((await create('Twice Ltd', 'create-2')).statusCode).toBe(201);
    const bad = await create('Bad Key Ltd', 'has space');
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('cannot be created by a contributor, nor with a bad body', async () => {
    const contributor = await signUp(t);
    const before = await countRows(t, 'companies');
    const refused = await call('POST', '/api/v1/companies', contributor.access, { name: 'Nope' });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'FORBIDDEN']);
    const owner = await signUp(t, { role: 'company' });
    for (const payload of [
      {},
      { name: '' },
      { name: 'x'.repeat(1_000_000) },
      { name: 'A\u0000B' },
      { name: 'ok', id: 'x' },
    ]) {
      const response = await call('POST', '/api/v1/companies', owner.access, payload);
      // A NUL or a lone surrogate is refused by the kit, before the route's validation.
      const code = Object.values(payload).some((v) => typeof v === 'string' && /\0|\p{Cs}/u.test(v))
        ? 'INVALID_CHARACTERS'
        : 'VALIDATION_FAILED';
      expect([response.statusCode, response.json().code]).toEqual([400, code]);
    }
    expect(await countRows(t, 'companies')).toBe(before);
  });

  it('are visible to members and admins only; outsiders get 404 and change nothing', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const outsider = await signUp(t);
    const otherCompanyUser = await signUp(t, { role: 'company' });

    for (const who of [outsider, otherCompanyUser]) {
      for (const url of [`/api/v1/companies/${company.id}`, `/api/v1/companies/${company.id}/members`]) {
        const response = await call('GET', url, who.access);
        expect([response.statusCode, response.json().code]).toEqual([404, 'COMPANY_NOT_FOUND']);
      }
      const add = await call('POST', `/api/v1/companies/${company.id}/members`, who.access, {
        user_id: who.id,
        member_role: 'manager',
      });
      expect(add.statusCode).toBe(404);
      const key = await call('POST', `/api/v1/companies/${company.id}/api-keys`, who.access, {
        name: 'steal',
        scopes: ['company:read'],
      });
      expect(key.statusCode).toBe(404);
      const remove = await call('DELETE', `/api/v1/companies/${company.id}/members/${owner.id}`, who.access);
      expect(remove.statusCode).toBe(404);
    }
    expect(
      (await call('GET', `/api/v1/companies/${company.id}/members`, owner.access)).json().members,
    ).toHaveLength(1);
    const asAdmin = await call('GET', `/api/v1/companies/${company.id}`, admin.access);
    expect([asAdmin.statusCode, asAdmin.json().company.my_role]).toEqual([200, null]);
    const unknown = await call('GET', '/api/v1/companies/00000000-0000-4000-8000-000000000000', admin.access);
    expect(unknown.statusCode).toBe(404);
  });

  it('members: managers invite, change and remove; others only look; a company keeps a manager', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const viewer = await signUp(t, { role: 'company' });
    const billing = await signUp(t, { role: 'company' });
    const contributor = await signUp(t);
    const members = `/api/v1/companies/${company.id}/members`;

    await verifyEmail(t, viewer);
    await verifyEmail(t, billing);
    await joinCompany(t, owner, company.id, { ...viewer, email: viewer.email.toUpperCase() }, 'viewer');
    await joinCompany(t, owner, company.id, billing, 'billing');
    const listed = await call('GET', members, owner.access);
    expect(listed.json().members).toContainEqual(
      expect.objectContaining({ user_id: viewer.id, member_role: 'viewer', email: viewer.email }),
    );
    // Members join only by invitation: neither an address nor a non-member's id adds anyone.
    const byEmail = await call('POST', members, owner.access, {
      email: contributor.email,
      member_role: 'viewer',
    });
    expect([byEmail.statusCode, byEmail.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    const byId = await call('POST', members, owner.access, {
      user_id: contributor.id,
      member_role: 'viewer',
    });
    expect([byId.statusCode, byId.json().code]).toEqual([404, 'MEMBER_NOT_FOUND']);

    // A viewer sees the company but may not change it.
    expect((await call('GET', `/api/v1/companies/${company.id}`, viewer.access)).json().company.my_role).toBe(
      'viewer',
    );
    const promote = await call('POST', members, viewer.access, {
      user_id: viewer.id,
      member_role: 'manager',
    });
    expect([promote.statusCode, promote.json().code]).toEqual([403, 'COMPANY_MANAGER_REQUIRED']);
    const kick = await call('DELETE', `${members}/${billing.id}`, viewer.access);
    expect([kick.statusCode, kick.json().code]).toEqual([403, 'COMPANY_MANAGER_REQUIRED']);
    const keys = await call('GET', `/api/v1/companies/${company.id}/api-keys`, viewer.access);
    expect(keys.statusCode).toBe(403);

    const lastManager = await call('DELETE', `${members}/${owner.id}`, owner.access);
    expect([lastManager.statusCode, lastManager.json().code]).toEqual([409, 'LAST_MANAGER']);
    const demote = await call('POST', members, owner.access, { user_id: owner.id, member_role: 'viewer' });
    expect([demote.statusCode, demote.json().code]).toEqual([409, 'LAST_MANAGER']);

    const changed = await call('POST', members, owner.access, { user_id: viewer.id, member_role: 'manager' });
    expect([changed.statusCode, changed.json().member.member_role]).toEqual([200, 'manager']);
    expect((await call('DELETE', `${members}/${billing.id}`, viewer.access)).statusCode).toBe(204);
    // Any member may leave.
    expect((await call('DELETE', `${members}/${owner.id}`, owner.access)).statusCode).toBe(204);
    const left = await call('GET', `/api/v1/companies/${company.id}`, owner.access);
    expect(left.statusCode).toBe(404);
    const missing = await call('DELETE', `${members}/${billing.id}`, viewer.access);
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'MEMBER_NOT_FOUND']);

    const events = await waitFor(async () => {
      const all = (await readStream(t.service.bus, 'identity'))
        .map(
          (e) =>
            e.data as { type: string; subject: string; data: { user_id?: string; member_role?: string } },
        )
        .filter((e) => e.subject === company.id);
      return all.length >= 7 && all;
    });
    expect(events.map((e) => [e.type.split('.')[2], e.data.user_id, e.data.member_role])).toEqual([
      ['created', undefined, undefined],
      ['member-added', owner.id, 'manager'],
      ['member-added', viewer.id, 'viewer'],
      ['member-added', billing.id, 'billing'],
      ['member-added', viewer.id, 'manager'],
      ['member-removed', billing.id, undefined],
      ['member-removed', owner.id, undefined],
    ]);
  });
});

describe('a manager demoted or removed while a change of theirs waits for the members lock', () => {
  /**
   * The company's members are locked by a transaction of the test, in which `change` demotes or
   * removes manager `m`; meanwhile `m` sends one of each change, which pass the check made before
   * the lock and wait for it. Then the change commits.
   */
  async function racedChanges(change: 'demote' | 'remove') {
    const { owner, company, m, viewer, base, setting } = await managedCompany(`Raced ${change}`);
    const { keyId, invitationId } = setting;
    const before = async () => ({
      members: (await call('GET', `${base}/members`, owner.access)).json().members.length,
      keys: (await call('GET', `${base}/api-keys`, owner.access)).json().api_keys,
      invitations: (await call('GET', `${base}/invitations`, owner.access)).json().invitations,
    });
    const state = await before();

    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = () => {};
    const isHeld = new Promise<void>((resolve) => (held = resolve));
    const holder = t.service.db.transaction().execute(async (trx) => {
      await trx.selectFrom('companies').select('id').where('id', '=', company.id).forUpdate().execute();
      const mine = { company_id: company.id, user_id: m.id };
      if (change === 'demote') {
        await trx
          .updateTable('company_members')
          .set({ member_role: 'viewer' })
          .where('company_id', '=', mine.company_id)
          .where('user_id', '=', mine.user_id)
          .execute();
      } else {
        await trx
          .deleteFrom('company_members')
          .where('company_id', '=', mine.company_id)
          .where('user_id', '=', mine.user_id)
          .execute();
      }
      held();
      await released;
    });
    await isHeld;
    let answered = 0;
    const requests = [
      call('POST', `${base}/members`, m.access, { user_id: viewer.id, member_role: 'billing' }),
      call('DELETE', `${base}/members/${viewer.id}`, m.access),
      call('POST', `${base}/api-keys`, m.access, { name: 'sneaky', scopes: ['company:read'] }),
      call('DELETE', `${base}/api-keys/${keyId}`, m.access),
      call('POST', `${base}/invitations`, m.access, { email: uniqueEmail('sneaky'), member_role: 'manager' }),
      call('DELETE', `${base}/invitations/${invitationId}`, m.access),
    ].map((request) => request.finally(() => answered++));
    try {
      // Every request either waits for the lock or (had it not taken it) has been answered.
      await waitFor(async () => answered + (await lockWaiters(t)) >= requests.length, {
        what: 'every change at the members lock',
      });
    } finally {
      release();
      await holder;
    }
    const responses = await Promise.all(requests);
    return {
      responses: responses.map((r) => [r.statusCode, r.body ? r.json<{ code: string }>().code : undefined]),
      state,
      after: await before(),
    };
  }

  it('changes nothing once demoted: 403 COMPANY_MANAGER_REQUIRED', async () => {
    const { responses, state, after } = await racedChanges('demote');
    expect(responses).toEqual(Array(6).fill([403, 'COMPANY_MANAGER_REQUIRED']));
    expect(after).toEqual(state);
  });

  it('changes nothing once removed: 404 COMPANY_NOT_FOUND', async () => {
    const { responses, state, after } = await racedChanges('remove');
    expect(responses).toEqual(Array(6).fill([404, 'COMPANY_NOT_FOUND']));
    expect({ ...after, members: after.members + 1 }).toEqual(state);
  });
});

describe('an erasure and a company change by the same person at once', () => {
  type Answer = Awaited<ReturnType<typeof call>>;
  interface State {
    members: Array<[string, string]>;
    activeKeys: number;
    openInvitations: number;
  }

  const stateOf = async (owner: SignedUp, base: string): Promise<State> => ({
    members: (await call('GET', `${base}/members`, owner.access))
      .json<{ members: Array<{ user_id: string; member_role: string }> }>()
      .members.map((m): [string, string] => [m.user_id, m.member_role])
      .sort(),
    activeKeys: (await call('GET', `${base}/api-keys`, owner.access))
      .json<{ api_keys: Array<{ revoked_at: string | null }> }>()
      .api_keys.filter((k) => k.revoked_at === null).length,
    openInvitations: (await call('GET', `${base}/invitations`, owner.access)).json().invitations.length,
  });
  const without = (state: State, userId: string): State => ({
    ...state,
    members: state.members.filter(([id]) => id !== userId),
  });
  const answerOf = (r: Answer) => [
    r.statusCode,
    r.statusCode >= 400 ? r.json<{ code: string }>().code : undefined,
  ];
  const erase = (user: SignedUp) => call('DELETE', '/api/v1/users/me', user.access);

  /**
   * Sends the requests one after the other while a transaction of the test holds the company's
   * members lock (as another change of the company would): each is sent once those before it
   * wait for a lock (or were answered). Then the lock is let go.
   */
  function inTurn(companyId: string, requests: Array<() => Promise<Answer>>): Promise<Answer[]> {
    return inTurnWhileHolding(
      t,
      (trx) => trx.selectFrom('companies').select('id').where('id', '=', companyId).forUpdate().execute(),
      requests,
    );
  }

  const changes: Array<{
    what: string;
    send: (m: SignedUp, s: Setting) => Promise<Answer>;
    status: number;
    applied: (state: State, s: Setting) => State;
  }> = [
    {
      what: 'creates an API key',
      send: (m, s) => call('POST', `${s.base}/api-keys`, m.access, { name: 'ci', scopes: ['company:read'] }),
      status: 201,
      applied: (state) => ({ ...state, activeKeys: state.activeKeys + 1 }),
    },
    {
      what: 'revokes an API key',
      send: (m, s) => call('DELETE', `${s.base}/api-keys/${s.keyId}`, m.access),
      status: 204,
      applied: (state) => ({ ...state, activeKeys: state.activeKeys - 1 }),
    },
    {
      what: 'invites',
      send: (m, s) =>
        call('POST', `${s.base}/invitations`, m.access, {
          email: uniqueEmail('raced'),
          member_role: 'viewer',
        }),
      status: 202,
      applied: (state) => ({ ...state, openInvitations: state.openInvitations + 1 }),
    },
    {
      what: 'revokes an invitation',
      send: (m, s) => call('DELETE', `${s.base}/invitations/${s.invitationId}`, m.access),
      status: 204,
      applied: (state) => ({ ...state, openInvitations: state.openInvitations - 1 }),
    },
    {
      what: "changes a member's role",
      send: (m, s) =>
        call('POST', `${s.base}/members`, m.access, { user_id: s.viewer.id, member_role: 'billing' }),
      status: 200,
      applied: (state, s) => ({
        ...state,
        members: state.members.map(([id, role]): [string, string] => [
          id,
          id === s.viewer.id ? 'billing' : role,
        ]),
      }),
    },
    {
      what: 'removes a member',
      send: (m, s) => call('DELETE', `${s.base}/members/${s.viewer.id}`, m.access),
      status: 204,
      applied: (state, s) => without(state, s.viewer.id),
    },
  ];

  /**
   * Manager `m` of a company (with another manager, so the erasure is allowed) sends a change
   * and erases the account, in the order `first` says; both wait at the members lock the test
   * holds (or at each other). Every transaction takes the account before the company's members,
   * so whichever came first completes, then the other: never a deadlock, which Postgres would
   * break by rolling one back (503 TRY_AGAIN, before: a 500).
   */
  for (const change of changes) {
    for (const first of ['change', 'erasure'] as const) {
      it(`${change.what} and erases, the ${first} first: ${first === 'change' ? 'both done' : 'the change refused (401)'}`, async () => {
        const { owner, company, m, setting, base } = await managedCompany(`Erasing while it ${change.what}`);
        const before = await stateOf(owner, base);

        const sendChange = () => change.send(m, setting);
        const sendErasure = () => erase(m);
        const [changed, erased] =
          first === 'change'
            ? await inTurn(company.id, [sendChange, sendErasure])
            : (await inTurn(company.id, [sendErasure, sendChange])).reverse();

        const after = await stateOf(owner, base);
        if (first === 'change') {
          expect([answerOf(changed!), answerOf(erased!)]).toEqual([
            [change.status, undefined],
            [204, undefined],
          ]);
          expect(after).toEqual(without(change.applied(before, setting), m.id));
        } else {
          expect([answerOf(changed!), answerOf(erased!)]).toEqual([
            [401, 'UNAUTHENTICATED'],
            [204, undefined],
          ]);
          expect(after).toEqual(without(before, m.id));
        }
        const row = await t.service.db
          .selectFrom('users')
          .select('status')
          .where('id', '=', m.id)
          .executeTakeFirstOrThrow();
        expect(row.status).toBe('erased');
      });
    }
  }

  it('changes nothing for an account suspended while its changes waited: 403 ACCOUNT_SUSPENDED', async () => {
    const { owner, m, setting, base } = await managedCompany('Suspending while it changes');
    const before = await stateOf(owner, base);

    // A transaction of the test suspends `m` (the row lock suspension takes); meanwhile `m`, the
    // token still valid, sends one of each change.
    const responses = await inTurnWhileHolding(
      t,
      async (trx) => {
        await trx.selectFrom('users').select('id').where('id', '=', m.id).forUpdate().execute();
        await trx
          .updateTable('users')
          .set({ status: 'suspended', suspension_reason: 'fraud', suspension_reason_code: 'fraud' })
          .where('id', '=', m.id)
          .execute();
      },
      changes.map((change) => () => change.send(m, setting)),
    );
    expect(responses.map(answerOf)).toEqual(Array(changes.length).fill([403, 'ACCOUNT_SUSPENDED']));
    expect(await stateOf(owner, base)).toEqual(before);
  });
});

describe('a company created while its creator is erased or suspended', () => {
  /**
   * A transaction of the test holds the session of company account `m` (as a refresh would): the
   * erasure of `m` (or its suspension by an admin) locks the account, then waits there. Meanwhile
   * `m`, the token still valid, creates a company; it waits for the account. Then the lock is let
   * go: the erasure or suspension commits first, and the creation, deciding on the account under
   * its lock, creates nothing.
   */
  for (const [change, refusal] of [
    ['erased', [401, 'UNAUTHENTICATED']],
    ['suspended', [403, 'ACCOUNT_SUSPENDED']],
  ] as const) {
    it(`is refused to an account ${change} while the creation waited: no company, nothing announced`, async () => {
      const m = await signUp(t, { role: 'company' });
      const sendChange = () =>
        change === 'erased'
          ? call('DELETE', '/api/v1/users/me', m.access)
          : t.app.inject({
              method: 'PUT',
              url: `/api/v1/admin/users/${m.id}/status`,
              headers: auth(admin.access),
              payload: { status: 'suspended', reason: 'fraud' },
            });
      const sendCreation = () =>
        call('POST', '/api/v1/companies', m.access, { name: `Created while ${change}` });
      const [changed, created] = await inTurnWhileHolding(
        t,
        (trx) => trx.selectFrom('sessions').select('id').where('user_id', '=', m.id).forUpdate().execute(),
        [sendChange, sendCreation],
      );
      expect(changed!.statusCode, changed!.body).toBe(change === 'erased' ? 204 : 200);
      expect([created!.statusCode, created!.json().code]).toEqual(refusal);

      const companies = await t.service.db
        .selectFrom('companies')
        .select('id')
        .where('created_by', '=', m.id)
        .execute();
      expect(companies).toEqual([]);
      expect(
        await t.service.db
          .selectFrom('company_members')
          .select('company_id')
          .where('user_id', '=', m.id)
          .execute(),
      ).toEqual([]);
      const announced = await t.service.db
        .selectFrom('outbox')
        .select('type')
        .where('type', 'like', 'identity.company.%')
        .where(
          sql<boolean>`(payload->'data'->>'created_by' = ${m.id} or payload->'data'->>'user_id' = ${m.id})`,
        )
        .execute();
      expect(announced).toEqual([]);
    });
  }
});

describe('invitations', () => {
  const invite = (token: string, companyId: string, email: string, member_role = 'viewer') =>
    call('POST', `/api/v1/companies/${companyId}/invitations`, token, { email, member_role });
  const acceptAs = (user: SignedUp, token: string) =>
    call('POST', '/api/v1/invitations/accept', user.access, { token });

  it('answer the same for a known and an unknown address, and add no one until accepted', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const known = await signUp(t, { role: 'company' });
    await verifyEmail(t, known);
    const unknown = uniqueEmail('nobody');

    const toKnown = await invite(owner.access, company.id, known.email);
    const toUnknown = await invite(owner.access, company.id, unknown);
    const shape = (r: typeof toKnown) => {
      const { invitation } = r.json<{ invitation: Record<string, unknown> }>();
      return [r.statusCode, Object.keys(invitation).sort(), invitation.member_role];
    };
    expect(shape(toKnown)).toEqual(shape(toUnknown));
    expect(toKnown.statusCode).toBe(202);
    // Both addresses get the same mail; nobody is a member yet, and nothing was announced.
    expect((await mailbox(t, unknown)).map((m) => m.kind)).toEqual(['company_invitation']);
    const before = await call('GET', `/api/v1/companies/${company.id}/members`, owner.access);
    expect(before.json().members.map((m: { user_id: string }) => m.user_id)).toEqual([owner.id]);
    const pending = await call('GET', `/api/v1/companies/${company.id}/invitations`, owner.access);
    expect(pending.json().invitations).toHaveLength(2);

    const accepted = await acceptAs(known, await invitationTokenFor(t, known.email));
    expect([accepted.statusCode, accepted.json().member.user_id]).toEqual([201, known.id]);
    const again = await acceptAs(known, await invitationTokenFor(t, known.email));
    expect([again.statusCode, again.json().code]).toEqual([409, 'INVITATION_USED']);

    const events = await waitFor(async () => {
      const all = (await readStream(t.service.bus, 'identity'))
        .map((e) => e.data as { type: string; subject: string; data: { user_id?: string } })
        .filter((e) => e.subject === company.id && e.type === 'identity.company.member-added.v1');
      return all.length >= 2 && all;
    });
    expect(events.map((e) => e.data.user_id)).toEqual([owner.id, known.id]);
  });

  it('are accepted only by the invited, verified company account, before they expire', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const invited = await signUp(t, { role: 'company' });
    const other = await signUp(t, { role: 'company' });
    await verifyEmail(t, other);
    await invite(owner.access, company.id, invited.email);
    const token = await invitationTokenFor(t, invited.email);

    const stranger = await acceptAs(other, token);
    expect([stranger.statusCode, stranger.json().code]).toEqual([403, 'INVITATION_FOR_ANOTHER_ADDRESS']);
    const unverified = await acceptAs(invited, token);
    expect([unverified.statusCode, unverified.json().code]).toEqual([403, 'EMAIL_NOT_VERIFIED']);
    const bogus = await acceptAs(invited, 'A'.repeat(43));
    expect([bogus.statusCode, bogus.json().code]).toEqual([404, 'INVITATION_NOT_FOUND']);

    await verifyEmail(t, invited);
    t.clock.advance(8 * 24 * 3600 * 1000);
    try {
      const late = await acceptAs(invited, token);
      expect([late.statusCode, late.json().code]).toEqual([409, 'INVITATION_EXPIRED']);
    } finally {
      t.clock.advance(-8 * 24 * 3600 * 1000);
    }
    const members = await call('GET', `/api/v1/companies/${company.id}/members`, owner.access);
    expect(members.json().members).toHaveLength(1);
  });

  for (const [change, refusal] of [
    ['suspended', [403, 'ACCOUNT_SUSPENDED']],
    ['erased', [401, 'UNAUTHENTICATED']],
  ] as const) {
    it(`are refused to an account ${change} while its acceptance waited: no member, nothing announced`, async () => {
      const owner = await signUp(t, { role: 'company' });
      const company = await newCompany(owner, `Accepting while ${change}`);
      const invited = await signUp(t, { role: 'company' });
      await verifyEmail(t, invited);
      await invite(owner.access, company.id, invited.email);
      const token = await invitationTokenFor(t, invited.email);

      // The account row is locked by a transaction of the test that suspends or erases it; the
      // acceptance, its bearer's token still valid, starts meanwhile.
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let held = () => {};
      const isHeld = new Promise<void>((resolve) => (held = resolve));
      const holder = t.service.db.transaction().execute(async (trx) => {
        await trx.selectFrom('users').select('id').where('id', '=', invited.id).forUpdate().execute();
        await trx
          .updateTable('users')
          .set(
            change === 'suspended'
              ? { status: 'suspended', suspension_reason: 'fraud', suspension_reason_code: 'fraud' }
              : {
                  status: 'erased',
                  email: null,
                  password_hash: null,
                  full_name: null,
                  erased_at: new Date(),
                },
          )
          .where('id', '=', invited.id)
          .execute();
        held();
        await released;
      });
      await isHeld;
      let answered = false;
      const accepting = acceptAs(invited, token).finally(() => (answered = true));
      try {
        await waitFor(async () => answered || (await lockWaiters(t)) >= 1, {
          what: 'the acceptance at the lock',
        });
      } finally {
        release();
        await holder;
      }
      const response = await accepting;
      expect([response.statusCode, response.json().code]).toEqual(refusal);
      const members = await t.service.db
        .selectFrom('company_members')
        .select('user_id')
        .where('company_id', '=', company.id)
        .execute();
      expect(members.map((m) => m.user_id)).toEqual([owner.id]);
      const announced = await t.service.db
        .selectFrom('outbox')
        .select('type')
        .where('subject', '=', company.id)
        .orderBy('position')
        .execute();
      expect(announced.map((e) => e.type)).toEqual([
        'identity.company.created.v1',
        'identity.company.member-added.v1',
      ]);
    });
  }

  it('go to one address at most 3 times a day from a company, revoked ones counted; other addresses and companies are not held up', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const other = await newCompany(owner, 'Another company of the same manager');
    const address = uniqueEmail('pestered');
    for (let sent = 0; sent < 3; sent++) {
      const invited = await invite(owner.access, company.id, sent === 1 ? address.toUpperCase() : address);
      expect(invited.statusCode, invited.body).toBe(202);
      // Revoked at once, so the cap on open invitations never comes into it.
      const revoked = await call(
        'DELETE',
        `/api/v1/companies/${company.id}/invitations/${invited.json().invitation.id}`,
        owner.access,
      );
      expect(revoked.statusCode).toBe(204);
    }
    const fourth = await invite(owner.access, company.id, address);
    expect([fourth.statusCode, fourth.json().code]).toEqual([409, 'TOO_MANY_INVITATIONS_TO_ADDRESS']);
    expect(await mailbox(t, address)).toHaveLength(3);
    expect((await invite(owner.access, company.id, uniqueEmail('someone-else'))).statusCode).toBe(202);
    expect((await invite(owner.access, other.id, address)).statusCode).toBe(202);
    t.clock.advance(24 * 3600 * 1000 + 1_000);
    try {
      expect((await invite(owner.access, company.id, address)).statusCode).toBe(202);
    } finally {
      t.clock.advance(-(24 * 3600 * 1000 + 1_000));
    }
  });

  it('are sent and seen by managers only', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const outsider = await signUp(t, { role: 'company' });
    const denied = await invite(outsider.access, company.id, outsider.email, 'manager');
    expect([denied.statusCode, denied.json().code]).toEqual([404, 'COMPANY_NOT_FOUND']);
    expect(await mailbox(t, outsider.email)).not.toContainEqual(
      expect.objectContaining({ kind: 'company_invitation' }),
    );
  });
});

describe('API keys', () => {
  it('are shown once, stored hashed, listed by prefix, exchanged for a company token, and revocable', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const keys = `/api/v1/companies/${company.id}/api-keys`;

    const created = await call('POST', keys, owner.access, {
      name: 'ingest bot',
      scopes: ['company:read', 'campaigns:write'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const { api_key: key, secret } = created.json<CreatedKey>();
    expect(secret).toMatch(/^tsk_[0-9a-f]{12}_[\w-]{43}$/);
    expect(secret.startsWith(key.prefix)).toBe(true);
    expect(key).toMatchObject({
      name: 'ingest bot',
      scopes: ['company:read', 'campaigns:write'],
      last_used_at: null,
    });

    const stored = await t.service.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(secret.slice('tsk_'.length + 12 + 1));
    const listed = await call('GET', keys, owner.access);
    expect(listed.json().api_keys).toEqual([expect.objectContaining({ id: key.id, prefix: key.prefix })]);
    expect(listed.body).not.toContain(secret);

    const exchange = await t.app.inject({ method: 'POST', url: '/auth/token', payload: { api_key: secret } });
    expect(exchange.statusCode, exchange.body).toBe(200);
    const token = exchange.json<{ access_token: string; token_type: string; expires_in: number }>();
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(decodeJwt(token.access_token)).toMatchObject({
      sub: key.id,
      role: 'company',
      company_id: company.id,
      scopes: ['company:read', 'campaigns:write'],
    });
    const used = await call('GET', keys, owner.access);
    expect(used.json().api_keys[0].last_used_at).not.toBeNull();

    // The machine token reads its own company, and nothing personal or managerial.
    expect((await call('GET', `/api/v1/companies/${company.id}`, token.access_token)).statusCode).toBe(200);
    const me = await call('GET', '/api/v1/users/me', token.access_token);
    expect([me.statusCode, me.json().code]).toEqual([403, 'USER_TOKEN_REQUIRED']);
    expect((await call('GET', keys, token.access_token)).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/companies', token.access_token, { name: 'Shadow' })).statusCode).toBe(
      403,
    );
    const other = await newCompany(await signUp(t, { role: 'company' }), 'Other');
    expect((await call('GET', `/api/v1/companies/${other.id}`, token.access_token)).statusCode).toBe(404);

    expect((await call('DELETE', `${keys}/${key.id}`, owner.access)).statusCode).toBe(204);
    const revoked = await t.app.inject({ method: 'POST', url: '/auth/token', payload: { api_key: secret } });
    expect([revoked.statusCode, revoked.json().code]).toEqual([401, 'API_KEY_REVOKED']);
    const afterRevoke = await call('GET', `/api/v1/companies/${company.id}`, token.access_token);
    expect([afterRevoke.statusCode, afterRevoke.json().code]).toEqual([401, 'API_KEY_REVOKED']);
    expect((await call('GET', keys, owner.access)).json().api_keys[0].revoked_at).not.toBeNull();
  });

  it('refuses unknown, malformed and tampered keys with 401', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const { secret } = (
      await call('POST', `/api/v1/companies/${company.id}/api-keys`, owner.access, {
        name: 'k',
        scopes: ['tasks:read'],
      })
    ).json<CreatedKey>();
    const tampered = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    for (const apiKey of [tampered, 'tsk_000000000000_' + 'A'.repeat(43), 'hello']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/auth/token',
        payload: { api_key: apiKey },
        headers: { 'x-forwarded-for': '198.51.100.7' },
      });
      expect([response.statusCode, response.json().code]).toEqual([401, 'API_KEY_INVALID']);
    }
  });

  it('need known scopes and a manager', async () => {
    const owner = await signUp(t, { role: 'company' });
    const company = await newCompany(owner);
    const url = `/api/v1/companies/${company.id}/api-keys`;
    for (const payload of [
      { name: 'k', scopes: [] },
      { name: 'k', scopes: ['root'] },
      { name: 'k', scopes: ['tasks:read', 'tasks:read'] },
    ]) {
      expect((await call('POST', url, owner.access, payload)).statusCode).toBe(400);
    }
    const unknownKey = await call('DELETE', `${url}/00000000-0000-4000-8000-000000000000`, owner.access);
    expect([unknownKey.statusCode, unknownKey.json().code]).toEqual([404, 'API_KEY_NOT_FOUND']);
    const byAdmin = await call('POST', url, admin.access, { name: 'ops', scopes: ['billing:read'] });
    expect(byAdmin.statusCode).toBe(201);
  });
});
