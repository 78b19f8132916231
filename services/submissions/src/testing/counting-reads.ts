// Test support: a database handle that counts the selects reading each table.
import {
  AliasNode,
  type Kysely,
  type KyselyPlugin,
  type OperationNode,
  SelectQueryNode,
  TableNode,
} from 'kysely';
import type { SubmissionsDB } from '../db/schema.ts';

/** `db`, counting the selects reading each table (from or joined). */
export function countingReads(db: Kysely<SubmissionsDB>) {
  const reads = new Map<string, number>();
  const count = (node: OperationNode) => {
    const table = AliasNode.is(node) ? node.node : node;
    if (!TableNode.is(table)) return;
    const name = table.table.identifier.name;
    reads.set(name, (reads.get(name) ?? 0) + 1);
  };
  const counting: KyselyPlugin = {
    transformQuery({ node }) {
      if (SelectQueryNode.is(node)) {
        for (const from of node.from?.froms ?? []) count(from);
        for (const join of node.joins ?? []) count(join.table);
      }
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return { db: db.withPlugin(counting), reads: (table: string) => reads.get(table) ?? 0 };
}
