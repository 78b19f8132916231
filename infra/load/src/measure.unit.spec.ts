import { describe, expect, it } from 'vitest';
import { closedLoop, formatTable, pacedLoop, type Row, rowOf, statementsPerApproval } from './measure.ts';

// The load report's figures come from these: a wrong percentile or rate here is a wrong figure in
// every closing note.

const cpu = { busyPct: 97.4, load1: 3.25 };

describe('a row of the report', () => {
  it('counts the requests, the rate over the elapsed time, and p50 / p99 by nearest rank of the latencies', () => {
    // 1..200 ms, shuffled: p50 is the 100th smallest, p99 the 198th.
    const latencies = Array.from({ length: 200 }, (_, i) => ((i * 37) % 200) + 1);
    const row = rowOf(
      'feed',
      { latencies, errors: 3, elapsedMs: 4_000 },
      cpu,
      'p99 < 25 ms',
      (r) => r.p99 < 25,
    );
    expect(row).toMatchObject({
      scenario: 'feed',
      requests: 200,
      seconds: 4,
      rps: 50,
      p50: 100,
      p99: 198,
      errors: 3,
      met: false,
      cpuPct: 97.4,
      load1: 3.25,
    });
    expect(latencies[0]).toBe(1); // the input is left as it was
    expect(latencies[1]).toBe(38);
  });

  it('judges the target on the finished row, and has none where the judge says null', () => {
    const fast = rowOf(
      'claims',
      { latencies: [2, 4, 3], errors: 0, elapsedMs: 1_000 },
      cpu,
      '',
      (r) => r.p99 <= 4,
    );
    expect(fast.met).toBe(true);
    expect(rowOf('x', { latencies: [1], errors: 0, elapsedMs: 1_000 }, cpu, '', () => null).met).toBeNull();
  });
});

describe('the closed loop', () => {
  it('runs each worker until its work is done, timing what was sent and counting errors', async () => {
    const left = [3, 1, 2];
    const result = await closedLoop(3, 30, async (worker) => {
      if (left[worker]! === 0) return { outcome: 'done', ms: 0 };
      left[worker]! -= 1;
      return worker === 1
        ? { outcome: 'error', ms: 7, error: 'HTTP 503' }
        : { outcome: 'ok', ms: 5 + worker };
    });
    expect(result.latencies.sort((a, b) => a - b)).toEqual([5, 5, 5, 7, 7, 7]);
    expect(result.errors).toBe(1);
    expect(result.samples).toEqual(['HTTP 503']);
    // It stopped when the workers ran out of work, long before the 30 s.
    expect(result.elapsedMs).toBeLessThan(5_000);
  });

  it('stops sending at the deadline, and keeps only the first five error descriptions', async () => {
    let sent = 0;
    const result = await closedLoop(2, 0.2, async () => {
      sent += 1;
      const n = sent;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { outcome: 'error', ms: 10, error: `failure ${n}` };
    });
    expect(result.errors).toBe(sent);
    expect(result.latencies).toHaveLength(sent);
    expect(result.samples).toHaveLength(5);
    expect(result.samples[0]).toBe('failure 1');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(200);
    // Each worker sends one request after another: no more than the time allows.
    expect(sent).toBeLessThanOrEqual(2 * Math.ceil(result.elapsedMs / 10));
  });
});

describe('the paced loop', () => {
  it('starts requests at the rate asked, round the workers, without waiting for slow answers', async () => {
    const starts: { worker: number; at: number }[] = [];
    const t0 = performance.now();
    // 100/s for 0.3 s: 30 requests, each answered only after 200 ms. A closed loop of 3 workers
    // would have sent 3 by the time the first answers; this one keeps its pace.
    const result = await pacedLoop(3, 100, 0.3, async (worker) => {
      starts.push({ worker, at: performance.now() - t0 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      return worker === 2 ? { outcome: 'error', ms: 200, error: 'HTTP 503' } : { outcome: 'ok', ms: 200 };
    });
    expect(starts).toHaveLength(30);
    expect(starts.slice(0, 6).map((s) => s.worker)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(starts.filter((s) => s.at < 200).length).toBeGreaterThanOrEqual(15);
    // Request i is not started before i / rate.
    starts.forEach((s, i) => expect(s.at).toBeGreaterThanOrEqual(i * 10 - 2));
    expect(result.latencies).toHaveLength(30);
    expect(result.errors).toBe(10);
    expect(result.samples).toHaveLength(5);
    // It waited for the last answers.
    expect(result.elapsedMs).toBeGreaterThanOrEqual(450);
  });

  it('gives a worker that ran out of work no more turns', async () => {
    const turns = [0, 0];
    const result = await pacedLoop(2, 200, 0.1, async (worker) => {
      turns[worker]! += 1;
      return worker === 0 && turns[0]! > 2 ? { outcome: 'done', ms: 0 } : { outcome: 'ok', ms: 1 };
    });
    expect(turns).toEqual([3, 10]);
    expect(result.latencies).toHaveLength(12);
    // Its 'done' answer and its 7 turns left.
    expect(result.skipped).toBe(8);
  });

  it('counts a step that throws as an error, and says how far behind its schedule it fell', async () => {
    const result = await pacedLoop(2, 100, 0.05, async (worker) => {
      if (worker === 1) throw new Error('socket hang up');
      // Hold the event loop: the next start comes late.
      const until = performance.now() + 25;
      while (performance.now() < until);
      return { outcome: 'ok', ms: 25 };
    });
    expect(result.latencies).toHaveLength(5);
    expect(result.errors).toBe(2);
    expect(result.samples).toEqual(['socket hang up', 'socket hang up']);
    expect(result.maxStartLagMs).toBeGreaterThanOrEqual(10);
  });

  it('refuses a rate or a number of workers of 0', async () => {
    await expect(pacedLoop(0, 10, 1, () => Promise.resolve({ outcome: 'ok', ms: 1 }))).rejects.toThrow(
      RangeError,
    );
    await expect(pacedLoop(2, 0, 1, () => Promise.resolve({ outcome: 'ok', ms: 1 }))).rejects.toThrow(
      RangeError,
    );
  });
});

describe('the table', () => {
  it('prints one aligned line per row with its verdict, then the notes', () => {
    const row = (scenario: string, met: boolean | null, note?: string): Row => ({
      scenario,
      requests: 1_000,
      seconds: 10,
      rps: 100,
      p50: 1.25,
      p99: 20.5,
      errors: 0,
      target: met === null ? '' : 'p99 < 25 ms',
      met,
      cpuPct: 88.4,
      load1: 1.5,
      ...(note ? { note } : {}),
    });
    const table = formatTable([
      row('feed', true),
      row('e2e', false, 'where the time goes'),
      row('info', null),
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^scenario\s+requests\s+req\/s\s+p50 ms\s+p99 ms\s+errors\s+target\s+verdict/);
    expect(lines[2]).toMatch(/^feed\s+1000\s+100\.0\s+1\.3\s+20\.5\s+0\s+p99 < 25 ms\s+met\s+88%\s+1\.50$/);
    expect(lines[3]).toMatch(/\sMISSED\s/);
    expect(lines[4]).toMatch(/\s-\s+88%/);
    expect(lines[5]).toBe('  e2e: where the time goes');
    // Aligned: every line of the table is as wide as the header.
    expect(new Set(lines.slice(0, 5).map((line) => line.length)).size).toBe(1);
  });
});

describe('statements per approval', () => {
  it('sums each database per approval, most statements first, and names the slowest statements', () => {
    const lines = statementsPerApproval(
      [
        {
          database: 'tasks',
          calls: 40,
          ms: 2_000,
          query: 'update campaigns\n   set reserved = reserved + $1',
        },
        { database: 'tasks', calls: 20, ms: 10, query: 'select 1' },
        { database: 'ledger', calls: 100, ms: 30, query: 'insert into es_events' },
      ],
      20,
      2,
    );
    expect(lines[0]).toBe(
      'Statements per approval (pg_stat_statements, 8.0 in all): ledger 5.0 (1.5 ms), tasks 3.0 (100.5 ms)',
    );
    expect(lines.slice(2)).toEqual([
      '      100.0 ms   2.00×  tasks: update campaigns set reserved = reserved + $1',
      '        1.5 ms   5.00×  ledger: insert into es_events',
    ]);
  });
});
