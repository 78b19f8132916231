import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

// bigint columns (positions, sequences) come back as strings unless told otherwise;
// our positions stay far below 2^53, so numbers are safe and simpler to use.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createDatabase<DB>(
  url: string,
  /** `settings`: run-time parameters every session of the pool starts with (e.g. `{ jit: 'off' }`). */
  options: { max?: number; settings?: Record<string, string> } = {},
): Kysely<DB> {
  const settings = Object.entries(options.settings ?? {});
  for (const [name, value] of settings) {
    if (!/^[a-z_.]+$/.test(name) || !/^[A-Za-z0-9_.]+$/.test(value))
      throw new Error(`refusing the session setting ${name}=${value}`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    ...(settings.length > 0
      ? { options: settings.map(([name, value]) => `-c ${name}=${value}`).join(' ') }
      : {}),
  });
  // A database restart ends every connection at once. pg reports it as an 'error' event, on the
  // pool for an idle connection and on the client for one a transaction holds; unheard, either
  // crashes the process. Heard, the connection is discarded: the statement that used it fails,
  // and the next one gets a fresh connection.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/** Creates the database named in `url` if it does not exist (each service owns one). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`refusing to create database with odd name "${name}"`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`create database "${name}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently: fine
      });
    }
  } finally {
    await client.end();
  }
}

export async function pingDatabase(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}
