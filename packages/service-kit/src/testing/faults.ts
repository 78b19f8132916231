import { type Kysely, sql } from 'kysely';

/**
 * A fault of ours in one row, injected by the database itself: Postgres refuses every `on` (insert
 * or update) of `table` whose `column`, as text, equals `value`, with the error 'injected fault'.
 * For tests of what a job does when one item fails. Answers the undo (drops the trigger).
 */
export async function failRowWrites(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  target: { table: string; column: string; value: string; on: 'insert' | 'update' },
): Promise<() => Promise<void>> {
  const name = `tessera_test_fault_${target.table}`;
  await sql`create or replace function ${sql.id(name)}() returns trigger language plpgsql as $$
            begin
              if new.${sql.id(target.column)}::text = ${sql.lit(target.value)} then
                raise exception 'injected fault';
              end if;
              return new;
            end $$`.execute(db);
  await sql`create trigger ${sql.id(name)} before ${sql.raw(target.on === 'insert' ? 'insert' : 'update')}
            on ${sql.table(target.table)} for each row execute function ${sql.id(name)}()`.execute(db);
  return async () => {
    await sql`drop trigger ${sql.id(name)} on ${sql.table(target.table)}`.execute(db);
  };
}
