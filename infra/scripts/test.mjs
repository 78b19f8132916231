// `npm test`: bootstrap, then every check in turn. Later steps run even when an earlier one fails,
// so that one run shows everything; the exit code is non-zero if any failed.
// Extra arguments go to vitest: `npm test -- --project unit`.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { bootstrap, repoRoot, run } from './bootstrap.mjs';

const pnpm = bootstrap();
const report = path.join('reports', 'vitest.json');
rmSync(path.join(repoRoot, report), { force: true });

const steps = [
  {
    name: 'tests (vitest)',
    args: [
      'exec',
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...process.argv.slice(2),
    ],
  },
  { name: 'typecheck', args: ['run', 'typecheck'] },
  { name: 'lint', args: ['run', 'lint'] },
  ...(existsSync(path.join(repoRoot, 'packages/contracts/scripts/check-compat.ts'))
    ? [{ name: 'contracts compatibility', args: ['run', 'contracts:check'] }]
    : []),
];

const results = steps.map(({ name, args }) => {
  console.log(`\n==> ${name}`);
  const started = Date.now();
  const status = run(pnpm[0], [...pnpm.slice(1), ...args]);
  return { name, status, seconds: ((Date.now() - started) / 1000).toFixed(1) };
});

console.log('\n==> summary');
for (const { name, status, seconds } of results) {
  console.log(
    `  ${status === 0 ? 'ok  ' : 'FAIL'}  ${name} (${seconds} s${status === 0 ? '' : `, exit ${status ?? 'not started'}`})`,
  );
}
process.exit(results.every(({ status }) => status === 0) ? 0 : 1);
