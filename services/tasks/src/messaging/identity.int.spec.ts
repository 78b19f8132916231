// Eligibility read model from identity and engagement events, and what it changes for claims.
import { randomUUID } from 'node:crypto';
import { buildEvent, type EventData, type EventType } from '@tessera/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireDueAssignments } from '../assignments/index.ts';
import { startTestTasks, type TestTasks } from '../testing/harness.ts';
import { consumerNames } from './consumers.ts';

let t: TestTasks;

beforeAll(async () => {
  t = await startTestTasks({}, { background: { expiry: false } });
});

afterAll(async () => {
  await t?.stop();
});

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

/** Another service's event at a chosen time, as its producer would build it. */
function event<T extends EventType>(type: T, data: EventData<T>, time = new Date()) {
  return buildEvent(type, data, { subject: randomUUID(), time });
}

const fromIdentity = (e: ReturnType<typeof event>) => t.deliver(consumerNames.identity, e);
const fromEngagement = (e: ReturnType<typeof event>) => t.deliver(consumerNames.engagement, e);

const row = (userId: string) =>
  t.tasks.db.selectFrom('contributors').selectAll().where('user_id', '=', userId).executeTakeFirst();

const assignment = (id: string) =>
  t.tasks.db.selectFrom('assignments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

async function claimAs(userId: string, taskId: string) {
  const token = await t.token({ sub: userId, role: 'contributor' });
  return t.inject({ method: 'POST', url: `/api/v1/tasks/${taskId}/claim`, token });
}

/** Claims the task as the contributor: its assignment, as stored. */
async function claimed(userId: string, taskId: string) {
  const response = await claimAs(userId, taskId);
  expect(response.status).toBe(201);
  return assignment((response.body as { assignment: { id: string } }).assignment.id);
}

async function openTask(values: Parameters<TestTasks['fixtures']['task']>[1] = {}) {
  const campaign = await t.fixtures.activeCampaign();
  return t.fixtures.task(campaign.id, values);
}

describe('identity events', () => {
  it('records a registration with its languages as primary subtags, lower case, once each', async () => {
    const userId = randomUUID();
    await fromIdentity(
      event('identity.user.registered.v1', {
        user_id: userId,
        role: 'contributor',
        country: 'KE',
        languages: ['en-US', 'EN', 'sw-KE', 'pt-BR'],
      }),
    );

    expect(await row(userId)).toMatchObject({
      role: 'contributor',
      status: 'active',
      country: 'KE',
      languages: ['en', 'sw', 'pt'],
      level: 1,
      trust_score: '5.0',
    });
  });

  it('makes a contributor eligible for a language and a region once the profile says so', async () => {
    const userId = randomUUID();
    const task = await openTask({ required_languages: ['sw'], regions: ['TZ'] });
    await fromIdentity(
      event('identity.user.registered.v1', {
        user_id: userId,
        role: 'contributor',
        country: 'KE',
        languages: ['en'],
      }),
    );
    expect((await claimAs(userId, task.id)).body.reasons).toEqual(['LANGUAGE_MISMATCH', 'REGION_MISMATCH']);

    await fromIdentity(
      event('identity.user.profile-updated.v1', {
        user_id: userId,
        country: 'TZ',
        languages: ['en', 'sw-TZ'],
        preferred_language: 'sw-TZ',
      }),
    );

    expect((await claimAs(userId, task.id)).status).toBe(201);
  });

  it('keeps the newer profile when an older update is handled after it', async () => {
    const userId = randomUUID();
    const profile = (country: string, languages: string[]) => ({
      user_id: userId,
      country,
      languages,
      preferred_language: null,
    });
    await fromIdentity(event('identity.user.profile-updated.v1', profile('KE', ['sw']), minutesAgo(1)));
    await fromIdentity(event('identity.user.profile-updated.v1', profile('NG', ['yo']), minutesAgo(5)));

    expect(await row(userId)).toMatchObject({ country: 'KE', languages: ['sw'] });

    // A registration older than both changes nothing either.
    await fromIdentity(
      event(
        'identity.user.registered.v1',
        { user_id: userId, role: 'contributor', country: 'GH', languages: ['ak'] },
        minutesAgo(10),
      ),
    );
    expect(await row(userId)).toMatchObject({ country: 'KE', languages: ['sw'], role: 'contributor' });
  });

  it('refuses claims of a suspended contributor with ACCOUNT_NOT_ACTIVE until reinstated', async () => {
    const { user_id: userId } = await t.fixtures.contributor();
    const task = await openTask();

    await fromIdentity(event('identity.user.suspended.v1', { user_id: userId, reason_code: 'fraud' }));
    const refused = await claimAs(userId, task.id);
    expect(refused).toMatchObject({
      status: 403,
      body: { code: 'TASK_NOT_ELIGIBLE', reasons: ['ACCOUNT_NOT_ACTIVE'] },
    });

    await fromIdentity(event('identity.user.reinstated.v1', { user_id: userId }));
    expect((await claimAs(userId, task.id)).status).toBe(201);
  });

  it('does not let an older suspension undo a newer reinstatement', async () => {
    const { user_id: userId } = await t.fixtures.contributor();
    await fromIdentity(event('identity.user.reinstated.v1', { user_id: userId }, minutesAgo(1)));
    await fromIdentity(
      event('identity.user.suspended.v1', { user_id: userId, reason_code: 'abuse' }, minutesAgo(3)),
    );

    expect((await row(userId))?.status).toBe('active');
  });

  it('leaves a claim made after a reinstatement alone when the older suspension is handled late', async () => {
    const { user_id: userId } = await t.fixtures.contributor();
    const task = await openTask({ claim_ttl_seconds: 3600 });
    // Suspended at T1, reinstated at T2; only the reinstatement has been handled so far.
    await fromIdentity(event('identity.user.reinstated.v1', { user_id: userId }, minutesAgo(2)));
    const before = await claimed(userId, task.id); // T3

    await fromIdentity(
      event('identity.user.suspended.v1', { user_id: userId, reason_code: 'fraud' }, minutesAgo(3)),
    );

    expect((await row(userId))?.status).toBe('active');
    expect(await assignment(before.id)).toMatchObject({ status: 'active', expires_at: before.expires_at });
    await expireDueAssignments(t.tasks.db, { now: new Date() });
    expect((await assignment(before.id)).status).toBe('active');
  });

  it('makes no claim due for a suspension older than the status held, even a claim made before it', async () => {
    const { user_id: userId } = await t.fixtures.contributor();
    const { id } = await claimed(userId, (await openTask({ claim_ttl_seconds: 3600 })).id);
    // Claimed at T0, suspended at T1, reinstated at T2; the reinstatement is handled first.
    await t.tasks.db
      .updateTable('assignments')
      .set({ claimed_at: minutesAgo(10) })
      .where('id', '=', id)
      .execute();
    const before = await assignment(id);
    await fromIdentity(event('identity.user.reinstated.v1', { user_id: userId }, minutesAgo(2)));

    await fromIdentity(
      event('identity.user.suspended.v1', { user_id: userId, reason_code: 'fraud' }, minutesAgo(5)),
    );

    expect((await row(userId))?.status).toBe('active');
    expect(await assignment(before.id)).toMatchObject({ status: 'active', expires_at: before.expires_at });
  });

  it('makes due the claims made before the suspension and those made while it was on its way', async () => {
    const { user_id: userId } = await t.fixtures.contributor();
    const earlier = await claimed(userId, (await openTask({ claim_ttl_seconds: 3600 })).id);
    const suspendedAt = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The suspension is not handled yet, so this claim is still taken: by someone suspended.
    const later = await claimed(userId, (await openTask({ claim_ttl_seconds: 3600 })).id);

    await fromIdentity(
      event('identity.user.suspended.v1', { user_id: userId, reason_code: 'fraud' }, suspendedAt),
    );

    expect((await assignment(earlier.id)).expires_at).toEqual(suspendedAt);
    expect((await assignment(later.id)).expires_at).toEqual(suspendedAt);
  });

  it('keeps account status and profile apart: a late profile update still applies after a suspension', async () => {
    const userId = randomUUID();
    await fromIdentity(
      event('identity.user.suspended.v1', { user_id: userId, reason_code: 'fraud' }, minutesAgo(1)),
    );
    await fromIdentity(
      event(
        'identity.user.profile-updated.v1',
        { user_id: userId, country: 'UG', languages: ['lg'], preferred_language: null },
        minutesAgo(2),
      ),
    );

    expect(await row(userId)).toMatchObject({ status: 'suspended', country: 'UG', languages: ['lg'] });
  });

  it('erases for good: scrubs the profile, drops invitations, and no older event revives the user', async () => {
    const userId = randomUUID();
    await fromIdentity(
      event(
        'identity.user.registered.v1',
        { user_id: userId, role: 'contributor', country: 'KE', languages: ['sw'] },
        minutesAgo(5),
      ),
    );
    const campaign = await t.fixtures.activeCampaign({ is_private: true });
    await t.tasks.db
      .insertInto('campaign_invitations')
      .values({ campaign_id: campaign.id, user_id: userId, invited_by: randomUUID() })
      .execute();
    const task = await t.fixtures.task(campaign.id);

    await fromIdentity(event('identity.user.erased.v1', { user_id: userId }, minutesAgo(2)));
    await fromIdentity(event('identity.user.reinstated.v1', { user_id: userId }, minutesAgo(1)));
    await fromIdentity(
      event('identity.user.profile-updated.v1', {
        user_id: userId,
        country: 'KE',
        languages: ['sw'],
        preferred_language: null,
      }),
    );

    expect(await row(userId)).toMatchObject({ status: 'erased', country: null, languages: [] });
    const invitations = await t.tasks.db
      .selectFrom('campaign_invitations')
      .select('campaign_id')
      .where('user_id', '=', userId)
      .execute();
    expect(invitations).toEqual([]);
    expect((await claimAs(userId, task.id)).body.reasons).toEqual(['ACCOUNT_NOT_ACTIVE', 'NOT_INVITED']);
  });

  it('keeps company membership with tombstones; an older event never undoes a newer one', async () => {
    const companyId = randomUUID();
    const userId = randomUUID();
    const membership = () =>
      t.tasks.db
        .selectFrom('company_members')
        .select(['member_role', 'removed'])
        .where('company_id', '=', companyId)
        .where('user_id', '=', userId)
        .executeTakeFirst();

    await fromIdentity(
      event(
        'identity.company.member-added.v1',
        { company_id: companyId, user_id: userId, member_role: 'viewer' },
        minutesAgo(5),
      ),
    );
    expect(await membership()).toEqual({ member_role: 'viewer', removed: false });

    await fromIdentity(
      event('identity.company.member-removed.v1', { company_id: companyId, user_id: userId }, minutesAgo(3)),
    );
    expect(await membership()).toEqual({ member_role: null, removed: true });

    await fromIdentity(
      event(
        'identity.company.member-added.v1',
        { company_id: companyId, user_id: userId, member_role: 'manager' },
        minutesAgo(4),
      ),
    );
    expect(await membership()).toEqual({ member_role: null, removed: true });

    await fromIdentity(
      event(
        'identity.company.member-added.v1',
        { company_id: companyId, user_id: userId, member_role: 'manager' },
        minutesAgo(1),
      ),
    );
    expect(await membership()).toEqual({ member_role: 'manager', removed: false });
  });
});

describe('engagement events', () => {
  it('makes a contributor below the minimum level eligible once its level rises', async () => {
    const { user_id: userId } = await t.fixtures.contributor({ level: 2 });
    const task = await openTask({ min_level: 3 });
    expect(await claimAs(userId, task.id)).toMatchObject({
      status: 403,
      body: { code: 'TASK_NOT_ELIGIBLE', reasons: ['LEVEL_TOO_LOW'] },
    });

    await fromEngagement(event('engagement.contributor.level-changed.v1', { user_id: userId, level: 3 }));

    expect((await claimAs(userId, task.id)).status).toBe(201);
  });

  it('makes a contributor eligible once its trust score rises, and not after it falls', async () => {
    const userId = randomUUID();
    const task = await openTask({ min_trust_score: 7.5 });
    expect((await claimAs(userId, task.id)).body.reasons).toEqual(['TRUST_TOO_LOW']);

    await fromEngagement(
      event('engagement.contributor.trust-changed.v1', { user_id: userId, trust_score: 7.5 }, minutesAgo(2)),
    );
    expect(await row(userId)).toMatchObject({ trust_score: '7.5', level: 1, status: 'active' });

    await fromEngagement(
      event('engagement.contributor.trust-changed.v1', { user_id: userId, trust_score: 3.2 }, minutesAgo(1)),
    );
    expect((await claimAs(userId, task.id)).body.reasons).toEqual(['TRUST_TOO_LOW']);
  });

  it('keeps the newer level and trust score when older events are handled later', async () => {
    const userId = randomUUID();
    await fromEngagement(
      event('engagement.contributor.level-changed.v1', { user_id: userId, level: 7 }, minutesAgo(1)),
    );
    await fromEngagement(
      event('engagement.contributor.level-changed.v1', { user_id: userId, level: 4 }, minutesAgo(2)),
    );
    await fromEngagement(
      event('engagement.contributor.trust-changed.v1', { user_id: userId, trust_score: 8.1 }, minutesAgo(1)),
    );
    await fromEngagement(
      event('engagement.contributor.trust-changed.v1', { user_id: userId, trust_score: 2 }, minutesAgo(2)),
    );

    expect(await row(userId)).toMatchObject({ level: 7, trust_score: '8.1' });
  });

  it('keeps engagement and identity facts apart: a registration after a level change keeps the level', async () => {
    const userId = randomUUID();
    await fromEngagement(
      event('engagement.contributor.level-changed.v1', { user_id: userId, level: 5 }, minutesAgo(1)),
    );
    await fromIdentity(
      event(
        'identity.user.registered.v1',
        { user_id: userId, role: 'contributor', country: 'IN', languages: ['hi'] },
        minutesAgo(9),
      ),
    );

    expect(await row(userId)).toMatchObject({
      level: 5,
      country: 'IN',
      languages: ['hi'],
      role: 'contributor',
    });
  });
});
