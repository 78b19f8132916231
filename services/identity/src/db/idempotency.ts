import { HttpProblem } from '@tessera/service-kit';
import type { Kysely } from 'kysely';
import { sha256Hex } from '../domain/secrets.ts';
import type { IdentityDB } from './schema.ts';

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

/**
 * Claims an Idempotency-Key inside the caller's transaction. A concurrent request with the same
 * key waits on the row until this transaction ends. Returns the earlier response when the key was
 * used before with the same body; refuses it with another body (422).
 */
export async function claimIdempotencyKey(
  trx: Kysely<IdentityDB>,
  request: IdempotentRequest,
  now: Date,
): Promise<StoredResponse | null> {
  const requestHash = sha256Hex(JSON.stringify(request.body));
  const inserted = await trx
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
  const earlier = await trx
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('principal_id', '=', request.principalId)
    .where('operation', '=', request.operation)
    .where('key', '=', request.key)
    .executeTakeFirstOrThrow();
  if (earlier.request_hash !== requestHash) {
    throw new HttpProblem(
      422,
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was used with another request body; use a new key.',
    );
  }
  return { status: earlier.response_status, body: earlier.response_body };
}

export async function recordIdempotentResponse(
  trx: Kysely<IdentityDB>,
  request: Omit<IdempotentRequest, 'body'>,
  response: StoredResponse,
): Promise<void> {
  await trx
    .updateTable('idempotency_keys')
    .set({ response_status: response.status, response_body: JSON.stringify(response.body) })
    .where('principal_id', '=', request.principalId)
    .where('operation', '=', request.operation)
    .where('key', '=', request.key)
    .execute();
}
