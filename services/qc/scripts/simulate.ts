/**
 * Compares verdict methods on simulated judges (see src/consensus/simulation.ts):
 *
 *   pnpm --filter @tessera/qc simulate [--submissions 1000] [--judges 30] [--seed 1]
 *                                      [--spammers random|always-approve] [--honeypot-every 10]
 *
 * The run is seeded, so the same arguments print the same table.
 */
import { parseArgs } from 'node:util';
import {
  defaultSimulationOptions,
  type MethodResult,
  simulate,
  type SimulationReport,
  type SpammerBehaviour,
} from '../src/consensus/simulation.ts';

const spammerBehaviours: readonly SpammerBehaviour[] = ['random', 'always-approve'];

function parseOptions(argv: readonly string[]) {
  const { values } = parseArgs({
    // pnpm may pass a literal `--` before the script's arguments.
    args: argv.filter((arg) => arg !== '--'),
    options: {
      submissions: { type: 'string', default: String(defaultSimulationOptions.submissions) },
      judges: { type: 'string', default: String(defaultSimulationOptions.judges) },
      seed: { type: 'string', default: String(defaultSimulationOptions.seed) },
      spammers: { type: 'string', default: defaultSimulationOptions.spammerBehaviour },
      'honeypot-every': { type: 'string', default: String(defaultSimulationOptions.honeypotEvery) },
    },
  });
  const spammerBehaviour = spammerBehaviours.find((behaviour) => behaviour === values.spammers);
  if (spammerBehaviour === undefined)
    throw new Error(`--spammers must be one of ${spammerBehaviours.join(', ')}`);
  return {
    submissions: wholeNumber('submissions', values.submissions, 1),
    judges: wholeNumber('judges', values.judges, 1),
    seed: wholeNumber('seed', values.seed, 0),
    honeypotEvery: wholeNumber('honeypot-every', values['honeypot-every'], 0),
    spammerBehaviour,
  };
}

function wholeNumber(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return value;
}

const percent = (value: number | null) => (value === null ? '–' : `${(100 * value).toFixed(1)} %`);

function table(results: readonly MethodResult[]): string {
  const header = ['method', 'accuracy', 'judges/sub', 'escalated', 'acc. excl. escalated', 'honeypots/sub'];
  const rows = results.map((result) => [
    result.method,
    percent(result.accuracy),
    result.meanJudges.toFixed(2),
    percent(result.escalationRate),
    percent(result.accuracyExcludingEscalations),
    result.honeypotsPerSubmission.toFixed(2),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.map(line)].join('\n');
}

function summary(report: SimulationReport): string {
  const { options, learnedJudges } = report;
  const spammers = learnedJudges.filter((judge) => judge.trueAccuracy === null);
  const honest = learnedJudges.filter((judge) => judge.trueAccuracy !== null);
  const meanError =
    honest.reduce((sum, judge) => sum + Math.abs(judge.learnedAccuracy - judge.trueAccuracy!), 0) /
    Math.max(1, honest.length);
  const { judgesRequired, maxOverlap, threshold } = options.policy;
  return [
    `${options.submissions} submissions (${percent(options.approveShare)} truly approve), ${options.judges} judges ` +
      `(${spammers.length} spammers answering ${options.spammerBehaviour}, the rest of accuracy ` +
      `U(${options.accuracyRange[0]}, ${options.accuracyRange[1]})), seed ${options.seed}`,
    `dynamic overlap: judges_required ${judgesRequired}, max ${maxOverlap}, threshold ${threshold}; ` +
      `accuracies learned online from settled verdicts` +
      (options.honeypotEvery > 0
        ? ` and 1 honeypot in ${options.honeypotEvery} reviews`
        : ' (no honeypots)') +
      `; escalations decided by an always-right admin`,
    '',
    table(report.results),
    '',
    `learned accuracies (K=3) at the end: spammers ${spammers.map((j) => j.learnedAccuracy.toFixed(2)).join(', ') || '–'}; ` +
      `honest judges off by ${meanError.toFixed(3)} on average`,
  ].join('\n');
}

console.log(summary(simulate(parseOptions(process.argv.slice(2)))));
