import type { Kysely } from 'kysely';
import type { LedgerDB } from '../service.ts';
import { money, statementCursor } from './schemas.ts';
import { statementCause } from './statement-cause.ts';

/**
 * One page of an account's statement, newest first. The cursor is the last line's sequence
 * number, so pages stay stable while new lines arrive.
 */
export async function statementPage(
  db: Kysely<LedgerDB>,
  account: { account_id: string; currency: string },
  page: { before?: number | undefined; limit: number },
  options: { hideMetadata?: readonly string[] } = {},
) {
  const hidden = new Set(options.hideMetadata ?? []);
  let query = db
    .selectFrom('statement_lines')
    .selectAll()
    .where('account_id', '=', account.account_id)
    .where('currency', '=', account.currency);
  if (page.before !== undefined) query = query.where('seq', '<', page.before);
  const rows = await query
    .orderBy('seq', 'desc')
    .limit(page.limit + 1)
    .execute();
  const items = rows.slice(0, page.limit).map((row) => ({
    seq: row.seq,
    transfer_id: row.transfer_id,
    code: row.code,
    direction: row.direction,
    phase: row.phase,
    amount: money(row.amount, row.currency),
    counterparty: row.counterparty,
    balance: money(row.balance, row.currency),
    available: money(row.available, row.currency),
    metadata: Object.fromEntries(Object.entries(row.metadata).filter(([key]) => !hidden.has(key))),
    cause: statementCause(row.code, row.metadata, row.phase),
    at: row.at.toISOString(),
  }));
  const last = items.at(-1);
  return {
    items,
    next_cursor: rows.length > page.limit && last ? statementCursor.encode({ s: last.seq }) : null,
  };
}
