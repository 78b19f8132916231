import { parseArgs } from 'node:util';
import { isUndefinedTable } from './pg-errors.ts';
import type { Progress } from './progress.ts';

export const EXIT = { ok: 0, mismatch: 1, usage: 2 } as const;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** A progress line for long runs; given only when stderr is a terminal. */
  progress?: (label: string, total: number | undefined) => Progress;
}

export const USAGE = `Usage: npm run ledger:audit -- <command> [options]

Commands:
  verify                         Replay every stream from the event store, recompute every balance,
                                 check double entry, the hash chain, the seals and the projection.
  verify --file FILE             Verify an export offline: the chain, the seals, a full replay.
  export --out FILE              Write the chained log with its hashes and seals as NDJSON.
  balance --account ID --at AT   An account's balance at a seq (e.g. 1200) or an ISO time
                                 (2025-06-01 or 2025-06-01T12:00:00Z; events recorded at or before).
  keys [--out FILE]              Print (or write) the seals' public keys as PEM.

Options:
  --database-url URL   The ledger's database. Default: $DATABASE_URL, else the local runner's
                       postgres://postgres:postgres@127.0.0.1:$PG_PORT(54329)/tessera_ledger
  --public-key FILE    Trust only this Ed25519 public key (PEM, base64 SPKI DER or 32 raw bytes in
                       base64), not the keys the database or the file carries. Auditors should.
  --file FILE          verify, balance: read an export instead of the database.
  --currency CUR       balance: only this currency.
  --json               balance: print JSON.
  -h, --help           This text.

Exit status: 0 everything checked out; 1 a mismatch was found, or the audit could not run;
2 usage error.`;

export class UsageError extends Error {}

const options = {
  'database-url': { type: 'string' },
  'public-key': { type: 'string' },
  file: { type: 'string' },
  out: { type: 'string' },
  account: { type: 'string' },
  currency: { type: 'string' },
  at: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Values = ReturnType<
  typeof parseArgs<{ options: typeof options; allowPositionals: true }>
>['values'];

const allowed: Record<string, (keyof Values)[]> = {
  verify: ['database-url', 'public-key', 'file'],
  export: ['database-url', 'out'],
  balance: ['database-url', 'file', 'account', 'currency', 'at', 'json'],
  keys: ['database-url', 'out'],
};

export function defaultDatabaseUrl(env: NodeJS.ProcessEnv): string {
  return (
    env.DATABASE_URL?.trim() ||
    `postgres://postgres:postgres@127.0.0.1:${env.PG_PORT ?? 54329}/tessera_ledger`
  );
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let command: string | undefined;
  let values: Values;
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    values = parsed.values;
    if (values.help) {
      io.out(USAGE);
      return EXIT.ok;
    }
    if (parsed.positionals.length !== 1) throw new UsageError('give exactly one command');
    command = parsed.positionals[0] ?? '';
    const permitted = allowed[command];
    if (!permitted) throw new UsageError(`unknown command "${command}"`);
    const stray = Object.keys(values).filter((name) => !permitted.includes(name as keyof Values));
    if (stray.length > 0) throw new UsageError(`${command} does not take --${stray.join(', --')}`);
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }

  try {
    // Loaded only now, so that --help and usage errors answer at once.
    const commands = await import('./commands.ts');
    const run = { verify: commands.verify, export: commands.exportCommand, balance: commands.balance }[
      command
    ];
    return await (run ?? commands.keys)(values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    io.err(`error: ${describeError(error)}`);
    return EXIT.mismatch;
  }
}

function describeError(error: unknown): string {
  if (isUndefinedTable(error)) {
    return `${(error as Error).message}: is this the ledger's database, and has the ledger service migrated it?`;
  }
  if (error instanceof AggregateError && error.errors.length > 0)
    return error.errors.map(describeError).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}
