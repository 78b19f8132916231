import pg from 'pg';

/** Creates each database that does not exist yet; existing ones (and their data) are left alone. */
export async function ensureDatabases(adminUrl: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname = any($1)',
      [names],
    );
    const existing = new Set(rows.map((row) => row.datname));
    const created: string[] = [];
    for (const name of names.filter((n) => !existing.has(n))) {
      await client.query(`create database ${client.escapeIdentifier(name)}`);
      created.push(name);
    }
    return created;
  } finally {
    await client.end();
  }
}
