// The auditors' CLI: `npm run ledger:audit -- <command>` from the repository root (see --help).
import { runCli } from '../src/audit/cli.ts';

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
});
process.exitCode = code;
