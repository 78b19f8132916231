import { type Kysely, sql } from 'kysely';
import type { AccountSnapshot, Balances } from './replay.ts';
import { balanceFields, formatBalances } from './replay.ts';
import { Findings, type Report, formatCount, plural } from './report.ts';
import { isUndefinedTable } from './pg-errors.ts';

/** The service's balance projection, read as one consistent snapshot. */
export type ProjectionRead =
  { ok: true; checkpoint: string | null; rows: Map<string, ProjectionRow> } | { ok: false; reason: string };

export interface ProjectionRow {
  kind: string;
  owner: string | null;
  balances: Balances;
}

interface RawRow {
  account_id: string;
  currency: string;
  kind: string;
  owner: string | null;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
}

/**
 * Reads `account_balances` and the checkpoint it covers (`projection_checkpoint`, name 'ledger') in
 * one REPEATABLE READ transaction, so the rows are exactly those of that checkpoint.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function readProjection(db: Kysely<any>): Promise<ProjectionRead> {
  try {
    return await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        const checkpoint = await sql<{ checkpoint: string | null }>`
          select checkpoint from projection_checkpoint where name = 'ledger'`.execute(trx);
        const { rows } = await sql<RawRow>`
          select account_id, currency, kind, owner, debits_posted::text as debits_posted,
            credits_posted::text as credits_posted, debits_pending::text as debits_pending,
            credits_pending::text as credits_pending
          from account_balances`.execute(trx);
        const byAccount = new Map<string, ProjectionRow>();
        for (const row of rows) {
          byAccount.set(`${row.account_id}@${row.currency}`, {
            kind: row.kind,
            owner: row.owner,
            balances: {
              debits_posted: BigInt(row.debits_posted),
              credits_posted: BigInt(row.credits_posted),
              debits_pending: BigInt(row.debits_pending),
              credits_pending: BigInt(row.credits_pending),
            },
          });
        }
        return { ok: true as const, checkpoint: checkpoint.rows[0]?.checkpoint ?? null, rows: byAccount };
      });
  } catch (error) {
    if (isUndefinedTable(error)) {
      return {
        ok: false,
        reason: `${(error as Error).message} (the service's projection migrations have not run here)`,
      };
    }
    throw error;
  }
}

const isZero = (b: Balances) => balanceFields.every((field) => b[field] === 0n);

/**
 * Compares the projection with the replay's balances at the projection's own checkpoint. An account
 * with all-zero balances may be missing on either side; any other difference is a mismatch.
 */
export function compareProjection(
  report: Report,
  projection: ProjectionRead,
  replayed: { seq: number; accounts: Map<string, AccountSnapshot> } | undefined,
): void {
  const section = report.section('Projection');
  if (!projection.ok) {
    section.fail(`cannot compare with the projection: ${projection.reason}`);
    return;
  }
  if (!replayed) {
    section.fail(`projection checkpoint ${projection.checkpoint ?? '(none)'} is not a position of the store`);
    return;
  }
  const mismatches = new Findings();
  for (const [key, { account, balances }] of replayed.accounts) {
    const row = projection.rows.get(key);
    if (!row) {
      if (!isZero(balances)) mismatches.add(`${key}: no row; the replay gives ${formatBalances(balances)}`);
      continue;
    }
    if (account && (row.kind !== account.kind || row.owner !== account.owner)) {
      mismatches.add(
        `${key}: row says ${row.kind} of ${row.owner ?? 'nobody'}, the log ${account.kind} of ${account.owner ?? 'nobody'}`,
      );
    }
    const differing = balanceFields.filter((field) => row.balances[field] !== balances[field]);
    if (differing.length > 0) {
      const text = differing.map((f) => `${f} ${row.balances[f]} (replay ${balances[f]})`).join(', ');
      mismatches.add(`${key}: ${text}`);
    }
  }
  for (const [key, row] of projection.rows) {
    if (!replayed.accounts.has(key) && !isZero(row.balances)) {
      mismatches.add(`${key}: row with ${formatBalances(row.balances)}, but no such account in the log`);
    }
  }
  const where = projection.checkpoint === null ? 'the start of the log' : `seq ${formatCount(replayed.seq)}`;
  section.check(
    mismatches,
    `account_balances matches the replay for ${plural(replayed.accounts.size, 'account')} at its checkpoint (${where})`,
    `account_balances differs from the replay at its checkpoint (${where})`,
  );
}
