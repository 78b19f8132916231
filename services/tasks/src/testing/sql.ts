// Test support: SQL compiled without a database, and written out as checked-in snapshots (as
// Immich does) so that a change to a query that matters shows in review.
import {
  type Compilable,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';
import type { TasksDB } from '../db/schema.ts';

/** A Kysely that compiles queries for Postgres and never connects. */
export function compilingDb(): Kysely<TasksDB> {
  return new Kysely<TasksDB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

const BREAK_BEFORE = /^(select|from|inner join|left join|where|and|or|order by|limit|set|returning)\b/;

/** One clause a line, indented by how deep in parentheses it sits. */
function layout(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  let out = '';
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < flat.length; i++) {
    const char = flat[i]!;
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '(') {
      depth++;
    } else if (char === ')') {
      depth--;
    } else if (char === ' ' && BREAK_BEFORE.test(flat.slice(i + 1)) && flat[i - 1] !== '(') {
      out += `\n${'  '.repeat(depth)}`;
      continue;
    }
    out += char;
  }
  return out;
}

const show = (value: unknown): string =>
  value instanceof Date ? `'${value.toISOString()}'` : JSON.stringify(value);

/** Named queries as text: each one's SQL, then its parameters in order. Deterministic. */
export function sqlSnapshot(queries: Record<string, Compilable>): string {
  return Object.entries(queries)
    .map(([name, query]) => {
      const { sql, parameters } = query.compile();
      const params = parameters.map((value, i) => `-- $${i + 1} = ${show(value)}`).join('\n');
      return `-- ${name}\n${layout(sql)};\n${params}\n`;
    })
    .join('\n');
}
