/**
 * How many SQL statements engagement sends per approval, and which: every capability reacts to
 * `submissions.submission.approved.v1` in one consumer transaction, and what they tell engagement
 * (XP, levels, badges) comes back through its own stream. Those round trips, one after another,
 * are most of an approval's time in engagement (bench-stream.ts).
 *
 *   pnpm --filter @tessera/engagement statements      (APPROVALS=20)
 *
 * Counts the statements pg sends (the query text, first 110 characters, whitespace folded) from the
 * first approval published until engagement has settled, divided by the approvals, leaving out the
 * harness's own polling (HARNESS): once for each user's first approval, which creates their rows,
 * and once for their second. Postgres and NATS as in bench-stream.ts.
 */
import { resolveNats, resolvePostgres } from '@tessera/devstack';
import pg from 'pg';
import { approvalOf, startTestEngagement } from '../src/testing/harness.ts';

const APPROVALS = Number(process.env.APPROVALS ?? 20);

/** What the test harness asks while it waits (testing/harness.ts `emit`, `settled`); never the service. */
const HARNESS = [
  'select "event_id" from "inbox" where "consumer" = $1 and "event_id" = $2',
  'select "position" from "outbox" where "published_at" is null',
];

const counts = new Map<string, number>();
let counting = false;
type Query = (this: pg.Client, ...args: unknown[]) => unknown;
// eslint-disable-next-line @typescript-eslint/unbound-method -- applied to each client below
const query = pg.Client.prototype.query as unknown as Query;
(pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...args: unknown[]) {
  if (counting) {
    const [first] = args;
    const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
    const folded = text.replace(/\s+/g, ' ').trim();
    if (!HARNESS.some((harness) => folded.startsWith(harness))) {
      const key = folded.slice(0, 110);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return query.apply(this, args);
};

const postgres = await resolvePostgres({ containers: false });
const nats = await resolveNats({ containers: false });
const t = await startTestEngagement({}, { servers: { postgresUrl: postgres.url, natsUrl: nats.url } });
try {
  const users = await Promise.all(Array.from({ length: APPROVALS }, () => t.contributor()));
  const approve = (user: { id: string }) =>
    t.emit('submissions.submission.approved.v1', approvalOf(user.id, { xp_reward: 10 }));
  // Each user's first approval creates their rows (standing, counters, badges): counted apart.
  const rounds = [] as { label: string; counts: Map<string, number> }[];
  for (const label of ["each user's first approval", "each user's second approval"]) {
    await t.settled();
    counts.clear();
    counting = true;
    for (const user of users) await approve(user);
    await t.settled();
    counting = false;
    rounds.push({ label, counts: new Map(counts) });
  }
  for (const { label, counts: round } of rounds) {
    const rows = [...round.entries()].sort((a, b) => b[1] - a[1]);
    const total = rows.reduce((sum, [, n]) => sum + n, 0);
    process.stdout.write(
      `\n${(total / APPROVALS).toFixed(1)} statements per approval: ${label} (${APPROVALS} approvals, one at a time)\n`,
    );
    for (const [text, n] of rows)
      process.stdout.write(`${(n / APPROVALS).toFixed(2).padStart(6)}  ${text}\n`);
  }
} finally {
  await t.stop();
  await nats.stop();
  await postgres.stop();
}
