import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Judge, startTestQc, type TestQc } from '../testing/harness.ts';

/** The draw every use of the random source gets (honeypots are off: only the pick's draw matters). */
let draw = 0;
const random = () => draw;
let now = new Date();
const clock = () => now;

async function openCases(t: TestQc, count: number): Promise<string[]> {
  // Each test's own cases: nothing else open.
  await t.service.db.updateTable('cases').set({ status: 'decided' }).where('status', '=', 'open').execute();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    now = new Date(now.getTime() + 1_000);
    ids.push((await t.fixtures.submission(await t.fixtures.task('text'))).submissionId);
  }
  return ids;
}

async function leased(t: TestQc, judge: Judge, at: number): Promise<string> {
  draw = at;
  const response = await t.inject({ url: '/api/v1/reviews/next', token: judge.token });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.review.submission_id as string;
}

describe('leases pick at random among the oldest cases (QC_LEASE_AMONG_OLDEST 3)', () => {
  let t: TestQc;
  beforeAll(async () => {
    t = await startTestQc({ QC_LEASE_AMONG_OLDEST: 3 }, { clock, random });
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(() => {
    draw = 0;
  });

  it('judges leasing back to back do not all get the same case: the draw picks among the 3 oldest', async () => {
    const [oldest, second, third] = await openCases(t, 5);
    const judges = [await t.fixtures.judge(), await t.fixtures.judge(), await t.fixtures.judge()];
    // Draws in [0, 1) map onto the 3 oldest open cases: [0, 1/3) the oldest, [2/3, 1) the third.
    expect(await leased(t, judges[0]!, 0)).toBe(oldest);
    expect(await leased(t, judges[1]!, 0.5)).toBe(second);
    expect(await leased(t, judges[2]!, 0.99)).toBe(third);
  });

  it('never hands out a newer case than the 3 oldest that still want a vote', async () => {
    const cases = await openCases(t, 5);
    const served = new Set<string>();
    for (const at of [0, 0.4, 0.7, 0.999]) served.add(await leased(t, await t.fixtures.judge(), at));
    expect([...served].every((id) => cases.slice(0, 3).includes(id))).toBe(true);
  });

  it('gives the one open case whatever the draw', async () => {
    const [only] = await openCases(t, 1);
    expect(await leased(t, await t.fixtures.judge(), 0.99)).toBe(only);
  });
});

describe('leases with QC_LEASE_AMONG_OLDEST 1', () => {
  let t: TestQc;
  beforeAll(async () => {
    t = await startTestQc({ QC_LEASE_AMONG_OLDEST: 1 }, { clock, random });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('give the oldest case that still wants a vote, whatever the draw (as before)', async () => {
    const [oldest] = await openCases(t, 3);
    for (const at of [0, 0.5, 0.99]) expect(await leased(t, await t.fixtures.judge(), at)).toBe(oldest);
  });
});
