// The auditors' CLI: `npm run ledger:audit -- <command>` from the repository root (see --help).
import { runCli } from '../src/audit/cli.ts';
import { progressLine } from '../src/audit/progress.ts';

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  // Only on a terminal: a redrawn line would garble a log file or a pipe.
  ...(process.stderr.isTTY
    ? {
        progress: (label: string, total: number | undefined) =>
          progressLine({ label, total, stream: process.stderr }),
      }
    : {}),
});
process.exitCode = code;
