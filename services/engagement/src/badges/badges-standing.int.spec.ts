import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedId } from '../ids.ts';
import { startTestEngagement, type TestEngagement } from '../testing/harness.ts';

// Streak and trust are standing's columns (standings.streak_days, standings.trust_score); these
// tests set them as standing would and let an event of standing's own stream trigger the check.
let t: TestEngagement;
beforeAll(async () => {
  t = await startTestEngagement();
});
afterAll(() => t?.stop());

async function setStanding(userId: string, streakDays: number, trustScore: number) {
  await sql`
    insert into standings (user_id, xp, updated_at, streak_days, trust_score)
    values (${userId}, 0, now(), ${streakDays}, ${trustScore})
    on conflict (user_id) do update set streak_days = excluded.streak_days, trust_score = excluded.trust_score`.execute(
    t.service.db,
  );
}

async function unlockedCodes(userId: string): Promise<string[]> {
  const rows = await t.service.db
    .selectFrom('user_badges')
    .innerJoin('badges', 'badges.id', 'user_badges.badge_id')
    .select('badges.code')
    .where('user_id', '=', userId)
    .orderBy('badges.code')
    .execute();
  return rows.map((row) => row.code);
}

describe('badges on standing', () => {
  it('unlocks streak_7 at a seven-day streak', async () => {
    const user = await t.contributor();
    await setStanding(user.id, 6, 5);
    await t.emit('engagement.contributor.trust-changed.v1', { user_id: user.id, trust_score: 5 });
    expect(await unlockedCodes(user.id)).not.toContain('streak_7');
    await setStanding(user.id, 7, 5);
    await t.emit('engagement.contributor.trust-changed.v1', { user_id: user.id, trust_score: 5 });
    expect(await unlockedCodes(user.id)).toContain('streak_7');
    const events = await t.written('engagement.badge.unlocked.v1', 'user_id', user.id);
    expect(events.filter((event) => event.data.code === 'streak_7')).toHaveLength(1);
  });

  it('unlocks trusted when the trust score reaches 8.0, and not at 7.9', async () => {
    const user = await t.contributor();
    await setStanding(user.id, 0, 7.9);
    await t.emit('engagement.contributor.trust-changed.v1', { user_id: user.id, trust_score: 7.9 });
    expect(await unlockedCodes(user.id)).not.toContain('trusted');
    await setStanding(user.id, 0, 8);
    await t.emit('engagement.contributor.trust-changed.v1', { user_id: user.id, trust_score: 8 });
    expect(await unlockedCodes(user.id)).toContain('trusted');
    const xp = await t.service.db
      .selectFrom('xp_entries')
      .select('amount')
      .where('source', '=', 'badge')
      .where('source_id', '=', `${user.id}:${derivedId('default-badge', 'trusted')}`)
      .execute();
    expect(xp).toEqual([{ amount: 150 }]);
  });
});
