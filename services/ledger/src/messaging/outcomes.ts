import type { TesseraEvent } from '@tessera/contracts';
import { appendToOutbox } from '@tessera/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { LedgerDB } from '../service.ts';

type Db = Kysely<LedgerDB> | Transaction<LedgerDB>;

/** `<event type>:<what it is about>`: one announcement per outcome, whatever path reached it. */
export const outcomeKey = (type: TesseraEvent['type'], about: string) => `${type}:${about.toLowerCase()}`;

/**
 * Writes `event` to the outbox in the caller's transaction unless the outcome `key` was announced
 * before. Returns whether it was written. Concurrent callers with one key serialise on its row.
 */
export async function publishOutcome(trx: Db, key: string, event: TesseraEvent): Promise<boolean> {
  const claimed = await trx
    .insertInto('ledger_outcomes')
    .values({ key, event_id: event.id, type: event.type })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  if (!claimed) return false;
  await appendToOutbox(trx, [event]);
  return true;
}
