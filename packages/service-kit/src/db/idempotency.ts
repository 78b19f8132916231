import { createHash } from 'node:crypto';
import { type ColumnType, type Kysely, type Migration, sql } from 'kysely';
import { refusal } from '../refusal.ts';

/**
 * Replays of a POST that carried an `Idempotency-Key` header answer what the first one did. A
 * service that accepts the header adds `idempotencyKeysMigration` to its migrations.
 */
export interface IdempotencyKeysTable {
  principal_id: string;
  operation: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: ColumnType<unknown, string, string>;
  created_at: ColumnType<Date, Date, Date>;
}

export interface IdempotencyTables {
  idempotency_keys: IdempotencyKeysTable;
}

export const idempotencyKeysMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      create table idempotency_keys (
        principal_id text not null,
        operation text not null,
        key text not null,
        request_hash text not null,
        response_status integer not null,
        response_body jsonb not null,
        created_at timestamptz not null,
        primary key (principal_id, operation, key)
      )`.execute(db);
  },
};

export interface IdempotentRequest {
  principalId: string;
  operation: string;
  key: string;
  body: unknown;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

// Any database holding the table; kysely's types cannot express "at least these tables" for writes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WithIdempotency = Kysely<any>;

/**
 * Claims an Idempotency-Key inside the caller's transaction. A concurrent request with the same
 * key waits on the row until this transaction ends. Returns the earlier response when the key was
 * used before with the same body; refuses it with another body (422).
 */
export async function claimIdempotencyKey(
  trx: WithIdempotency,
  request: IdempotentRequest,
  now: Date,
): Promise<StoredResponse | null> {
  const db = trx as Kysely<IdempotencyTables>;
  const requestHash = createHash('sha256').update(JSON.stringify(request.body), 'utf8').digest('hex');
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      principal_id: request.principalId,
      operation: request.operation,
      key: request.key,
      request_hash: requestHash,
      response_status: 0,
      response_body: 'null',
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['principal_id', 'operation', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return null;
  const earlier = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('principal_id', '=', request.principalId)
    .where('operation', '=', request.operation)
    .where('key', '=', request.key)
    .executeTakeFirstOrThrow();
  if (earlier.request_hash !== requestHash) {
    throw refusal(
      'unprocessable',
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was used with another request body; use a new key.',
    );
  }
  return { status: earlier.response_status, body: earlier.response_body };
}

export async function recordIdempotentResponse(
  trx: WithIdempotency,
  request: Omit<IdempotentRequest, 'body'>,
  response: StoredResponse,
): Promise<void> {
  await (trx as Kysely<IdempotencyTables>)
    .updateTable('idempotency_keys')
    .set({ response_status: response.status, response_body: JSON.stringify(response.body) })
    .where('principal_id', '=', request.principalId)
    .where('operation', '=', request.operation)
    .where('key', '=', request.key)
    .execute();
}

/** A request that may carry an `Idempotency-Key`: who sent it, what it does, and its body. */
export interface IdempotentCall {
  principalId: string;
  operation: string;
  key: string | undefined;
  body: unknown;
}

/**
 * Runs `work` in one transaction. With a key, at most once: the answer (`status` and the body
 * `work` returns) is stored with the key in that transaction, a replay with the same body gets it
 * back, and another body under the same key is refused.
 */
export async function runOnce<DB, T>(
  db: Kysely<DB>,
  call: IdempotentCall,
  now: Date,
  status: number,
  work: (trx: Kysely<DB>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const key = call.key === undefined ? undefined : { ...call, key: call.key };
    if (key) {
      const earlier = await claimIdempotencyKey(trx, key, now);
      if (earlier) return earlier.body as T;
    }
    const body = await work(trx);
    if (key) await recordIdempotentResponse(trx, key, { status, body });
    return body;
  });
}
