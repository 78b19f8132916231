// `npm run chaos -- --submissions N`: the platform under fire. Starts it with the local runner,
// drives N submissions through claim, hand-in, judging and pay while SIGKILLing a random service
// every few seconds (the runner restarts it) and nats-server and Postgres once each, then waits for
// quiescence and checks that nothing was lost, paid twice or dead-lettered. Exit 1 when a check fails.
import { parseArgs } from 'node:util';
import { runChaos } from './harness.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    submissions: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '6' },
    'kill-every': { type: 'string', default: '4000' },
    'max-kills': { type: 'string' },
    'min-kills': { type: 'string' },
    'no-nats': { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    'settle-timeout': { type: 'string' },
    'prove-checks': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(`Usage: npm run chaos -- [--submissions N] [--concurrency C] [--kill-every MS]
                        [--max-kills K] [--min-kills K] [--no-nats] [--no-postgres] [--settle-timeout MS]
                        [--prove-checks]
`);
  process.exit(0);
}

// Exiting runs the platform's exit hook, which stops the runner (and so every service).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const submissions = Number(values.submissions);
const started = Date.now();
const stamp = () => `${String(Math.round((Date.now() - started) / 1000)).padStart(5)} s`;
const result = await runChaos({
  submissions,
  concurrency: Number(values.concurrency),
  killEveryMs: Number(values['kill-every']),
  ...(values['max-kills'] ? { maxKills: Number(values['max-kills']) } : {}),
  ...(values['min-kills'] ? { minKills: Number(values['min-kills']) } : {}),
  restartNats: !values['no-nats'],
  restartPostgres: !values['no-postgres'],
  settleTimeoutMs: values['settle-timeout']
    ? Number(values['settle-timeout'])
    : // After the drive, 4 judges work off the reviews left: 0.15 s per submission at 10,000, and
      // more than 0.2 s at 1,000 (one run ran out of 200 ms each with 42 still in review).
      Math.max(180_000, submissions * 600),
  proveChecks: values['prove-checks'],
  log: (line) => process.stdout.write(`[chaos ${stamp()}] ${line}\n`),
});
process.stdout.write(
  `\nchaos: ${result.ok ? 'every check passed' : 'CHECKS FAILED'} — ${result.sent} submissions, ${result.kills.length} kills (${result.kills.join(', ')}), ${result.serverErrors} answers 500, ${Math.round(result.durationMs / 1000)} s\n`,
);
for (const figure of result.figures)
  process.stdout.write(`  ${figure.ok ? 'ok  ' : 'FAIL'} ${figure.name}: ${figure.detail}\n`);
// With --prove-checks, every check must also have caught the fault written for it.
const missed = (result.tampered ?? []).filter((figure) => figure.ok);
if (result.tampered) {
  process.stdout.write(`\nthe checks after one fault of each kind was written (each must fail):\n`);
  for (const figure of result.tampered)
    process.stdout.write(`  ${figure.ok ? 'MISSED' : 'caught'} ${figure.name}: ${figure.detail}\n`);
}
process.exit(result.ok && missed.length === 0 ? 0 : 1);
