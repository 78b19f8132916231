import type { Transaction } from 'kysely';
import type { ClaimTerms } from '../domain/claims.ts';
import type { LedgerDB } from '../service.ts';
import { NotYetError } from './flow.ts';
import { canonicalId } from './transfer-ids.ts';

/**
 * The claim's terms, its row locked for the handler's transaction (one payment decision per claim
 * at a time). Undefined when the event names no claim; a claim not learned yet (it comes on the
 * tasks stream, which may lag) is a NotYetError: the event is retried, not paid and not lost.
 */
export async function lockClaim(
  trx: Transaction<LedgerDB>,
  assignmentId: string | undefined,
  what: string,
): Promise<(ClaimTerms & { assignment_id: string }) | undefined> {
  if (assignmentId === undefined) return undefined;
  const row = await trx
    .selectFrom('ledger_claims')
    .selectAll()
    .where('assignment_id', '=', canonicalId(assignmentId))
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new NotYetError(`${what}: claim ${assignmentId} is not known yet`);
  return {
    ...row,
    reward: Number(row.reward),
    judge_fee: Number(row.judge_fee),
    max_judges: Number(row.max_judges),
  };
}
