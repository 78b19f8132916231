import { describe, expect, it } from 'vitest';
import { runChaos } from '../infra/chaos/src/harness.ts';

// The short form of `npm run chaos`: a few dozen submissions through claim, hand-in, judging and
// pay while services are SIGKILLed and nats-server and Postgres are killed once each; the runner
// brings each back. Nothing may be lost, paid twice, awarded twice, notified twice or dead-lettered,
// and the ledger's audit must replay to the projections. Then a fault of each kind is written into
// the databases, and every check must catch it.
describe('the platform under fire (short chaos run)', () => {
  it('loses nothing and pays everything exactly once while its processes are killed', async () => {
    const lines: string[] = [];
    const result = await runChaos({
      submissions: Number(process.env.CHAOS_SUBMISSIONS ?? 40),
      concurrency: 6,
      killEveryMs: 3_000,
      // The chaos goes on past the last final state until three services were killed.
      minKills: 3,
      maxKills: 6,
      restartNats: true,
      restartPostgres: true,
      settleTimeoutMs: 180_000,
      proveChecks: true,
      log: (line) => {
        lines.push(line);
        if (process.env.CHAOS_VERBOSE) console.log(line);
      },
    });
    const report = lines.join('\n');
    expect(result.kills, report).toEqual(expect.arrayContaining(['nats', 'postgres']));
    expect(
      result.kills.filter((k) => k !== 'nats' && k !== 'postgres').length,
      report,
    ).toBeGreaterThanOrEqual(3);
    expect(result.sent, report).toBeGreaterThan(0);
    for (const figure of result.figures)
      expect(figure.ok, `${figure.name}: ${figure.detail}\n${report}`).toBe(true);
    expect(result.ok).toBe(true);
    // Then one fault of each kind was written: every check must have caught its own.
    expect(result.tampered?.map((figure) => figure.name)).toEqual(
      result.figures.map((figure) => figure.name),
    );
    for (const figure of result.tampered ?? [])
      expect(figure.ok, `the check "${figure.name}" missed its fault: ${figure.detail}`).toBe(false);
  }, 600_000);
});
