import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngagement, type TestEngagement } from '../testing/harness.ts';
import { setTimeZone, statusChanged, timeZoneOf, userFacts, userStatus } from './repository.ts';

let t: TestEngagement;
/** How far the service's clock is ahead of the real one. */
let skewMs = 0;
beforeAll(async () => {
  t = await startTestEngagement({}, { clock: () => new Date(Date.now() + skewMs) });
});
afterAll(() => t?.stop());

describe('time zone', () => {
  it('is UTC until set, takes an IANA name, and refuses anything else with 422 INVALID_TIME_ZONE', async () => {
    const user = await t.contributor();
    const url = '/api/v1/me/time-zone';
    expect((await t.inject({ url, token: user.token })).body).toEqual({ time_zone: 'UTC' });

    const set = await t.inject({ method: 'PUT', url, token: user.token, body: { time_zone: 'Asia/Tokyo' } });
    expect(set.status).toBe(200);
    expect((await t.inject({ url, token: user.token })).body).toEqual({ time_zone: 'Asia/Tokyo' });

    const wrong = await t.inject({ method: 'PUT', url, token: user.token, body: { time_zone: 'Mars/Base' } });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ code: 'INVALID_TIME_ZONE' });
    expect((await t.inject({ method: 'PUT', url, token: user.token, body: {} })).status).toBe(400);
    expect((await t.inject({ url })).status).toBe(401);
  });

  it('changes at most once a day: 429 TIME_ZONE_CHANGED_RECENTLY before, the same zone again is no change', async () => {
    const user = await t.contributor();
    const put = (time_zone: string) =>
      t.inject({ method: 'PUT', url: '/api/v1/me/time-zone', token: user.token, body: { time_zone } });
    expect((await put('Asia/Tokyo')).status).toBe(200); // the first choice is free
    expect((await put('Asia/Tokyo')).status).toBe(200); // no change
    const soon = await put('Pacific/Honolulu');
    expect(soon.status).toBe(429);
    expect(soon.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(soon.body).toMatchObject({ code: 'TIME_ZONE_CHANGED_RECENTLY' });
    expect((await t.inject({ url: '/api/v1/me/time-zone', token: user.token })).body).toEqual({
      time_zone: 'Asia/Tokyo',
    });
    try {
      skewMs = 23 * 3_600_000;
      expect((await put('Pacific/Honolulu')).status).toBe(429);
      skewMs = 24 * 3_600_000;
      expect((await put('Pacific/Honolulu')).status).toBe(200);
      expect((await put('Asia/Tokyo')).status).toBe(429); // and the day starts again
    } finally {
      skewMs = 0;
    }
  });

  it('is forgotten when the user is erased', async () => {
    const user = await t.contributor();
    await t.inject({
      method: 'PUT',
      url: '/api/v1/me/time-zone',
      token: user.token,
      body: { time_zone: 'Europe/Paris' },
    });
    await t.emit('identity.user.erased.v1', { user_id: user.id });
    const row = await t.service.db
      .selectFrom('users')
      .selectAll()
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'erased', time_zone: 'UTC' });
  });
});

describe('who a user is, within one transaction', () => {
  it('is read once per transaction, forgotten on a write, and never kept outside one', async () => {
    const user = await t.contributor();
    const db = t.service.db;
    const elsewhere = (timeZone: string) =>
      db.updateTable('users').set({ time_zone: timeZone }).where('user_id', '=', user.id).execute();
    await setTimeZone(db, user.id, 'Asia/Tokyo');

    await db.transaction().execute(async (trx) => {
      expect(await userFacts(trx, user.id)).toEqual({
        role: 'contributor',
        status: 'active',
        timeZone: 'Asia/Tokyo',
      });
      // Committed by another connection meanwhile: this transaction keeps what it read.
      await elsewhere('Europe/Paris');
      expect(await timeZoneOf(trx, user.id)).toBe('Asia/Tokyo');
      expect(await userStatus(trx, user.id)).toEqual({ role: 'contributor', status: 'active' });
      // Its own write is seen at once.
      await statusChanged(trx, user.id, 'suspended', new Date().toISOString());
      expect(await userFacts(trx, user.id)).toEqual({
        role: 'contributor',
        status: 'suspended',
        timeZone: 'Europe/Paris',
      });
      await setTimeZone(trx, user.id, 'America/Lima');
      expect(await timeZoneOf(trx, user.id)).toBe('America/Lima');
    });

    // Outside a transaction every call reads again.
    await elsewhere('Africa/Nairobi');
    expect(await timeZoneOf(db, user.id)).toBe('Africa/Nairobi');
    await elsewhere('Asia/Kolkata');
    expect(await timeZoneOf(db, user.id)).toBe('Asia/Kolkata');
  });
});
