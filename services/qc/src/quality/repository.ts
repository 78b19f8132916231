import { type Kysely, sql } from 'kysely';
import { krippendorffAlphaOfRatings } from '../consensus/index.ts';
import type { QcDB } from '../db/schema.ts';

type Db = Kysely<QcDB>;

/**
 * A judge's reviews and the fees the counted ones earned, per currency, as of `asOf`: submitted
 * before it, counted before it (quality/decide.ts `statsCutoff`). Honeypots count as any review once
 * counted (with their fee), and those counted are also told apart for the record the judge is shown
 * (quality/decide.ts `shownRecord`), never to the judge.
 */
export async function judgeEarnings(db: Db, judgeId: string, asOf: Date) {
  const counted = sql<boolean>`r.counted_at < ${asOf}`;
  const rows = await db
    .selectFrom('reviews as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .select([
      'c.currency',
      sql<number>`count(*) filter (where r.status in ('submitted', 'discarded') and r.submitted_at < ${asOf})::int`.as(
        'submitted',
      ),
      sql<number>`count(*) filter (where ${counted})::int`.as('counted'),
      sql<number>`coalesce(sum(r.fee_amount) filter (where ${counted}), 0)::bigint`.as('earned'),
      sql<number>`count(*) filter (where ${counted} and r.kind = 'honeypot')::int`.as('honeypots'),
      sql<number>`count(*) filter (where ${counted} and r.kind = 'honeypot' and r.honeypot_agreed)::int`.as(
        'honeypots_agreed',
      ),
    ])
    .where('r.judge_id', '=', judgeId)
    .groupBy('c.currency')
    .execute();
  return {
    submitted: rows.reduce((sum, row) => sum + row.submitted, 0),
    counted: rows.reduce((sum, row) => sum + row.counted, 0),
    earnings: rows
      .filter((row) => Number(row.earned) > 0)
      .map((row) => ({ amount: Number(row.earned), currency: row.currency })),
    honeypots: {
      correct: rows.reduce((sum, row) => sum + row.honeypots_agreed, 0),
      answered: rows.reduce((sum, row) => sum + row.honeypots, 0),
    },
  };
}

/** What a company sees of its campaign's review quality. */
export async function campaignQuality(db: Db, campaignId: string) {
  const cases = await db
    .selectFrom('cases')
    .select(['id', 'task_type', 'status', 'method', 'created_at', 'decided_at'])
    .where('campaign_id', '=', campaignId)
    .execute();
  const votes = await db
    .selectFrom('reviews as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .select(['r.case_id', 'r.judge_id', 'r.verdict', 'c.task_type'])
    .where('c.campaign_id', '=', campaignId)
    .where('r.kind', '=', 'consensus')
    .where('r.status', '=', 'submitted')
    .execute();
  const decided = cases.filter((c) => c.status === 'decided');
  const escalatedEver = new Set(
    cases.filter((c) => c.status === 'escalated' || c.method === 'admin').map((c) => c.id),
  );
  const judgedCases = cases.filter((c) => c.method !== 'golden').length;
  const byMethod: Record<string, number> = {};
  for (const c of decided) byMethod[c.method ?? 'unknown'] = (byMethod[c.method ?? 'unknown'] ?? 0) + 1;
  const durations = decided
    .filter((c) => c.decided_at !== null)
    .map((c) => (c.decided_at!.getTime() - c.created_at.getTime()) / 1000)
    .sort((a, b) => a - b);
  const judged = decided.filter((c) => c.method === 'consensus' || c.method === 'admin');
  const votesPerCase = new Map<string, number>();
  for (const vote of votes) votesPerCase.set(vote.case_id, (votesPerCase.get(vote.case_id) ?? 0) + 1);
  const types = [...new Set(cases.map((c) => c.task_type))].sort();
  return {
    campaign_id: campaignId,
    decided: decided.length,
    escalated: escalatedEver.size,
    // Of the cases that went to judges (golden ones never do).
    escalation_rate: judgedCases === 0 ? null : escalatedEver.size / judgedCases,
    by_method: byMethod,
    time_to_verdict_s: { median: quantile(durations, 0.5), p90: quantile(durations, 0.9) },
    judges_per_submission:
      judged.length === 0
        ? null
        : judged.reduce((sum, c) => sum + (votesPerCase.get(c.id) ?? 0), 0) / judged.length,
    by_task_type: types.map((type) => ({
      task_type: type,
      decided: decided.filter((c) => c.task_type === type).length,
      krippendorff_alpha: krippendorffAlphaOfRatings(
        votes
          .filter((vote) => vote.task_type === type)
          .map((vote) => ({ unit: vote.case_id, coder: vote.judge_id, value: vote.verdict! })),
      ),
    })),
  };
}

/** The q-quantile of sorted values (nearest rank), or null when there are none. */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
