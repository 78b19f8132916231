import { parseEvent } from '@tessera/contracts';
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { DeadLetterTable, KitTables } from '../db/kit-migrations.ts';
import type { HttpApp } from '../http/app.ts';
import { principalOf, requireRole } from '../http/auth.ts';
import { refusal } from '../refusal.ts';
import type { EventConsumer } from './consumer.ts';

export type DeadLetter = Selectable<DeadLetterTable>;

export async function listDeadLetters(
  db: Kysely<KitTables>,
  query: { consumer?: string; includeReplayed?: boolean; after?: number; limit?: number },
): Promise<DeadLetter[]> {
  let select = db
    .selectFrom('dead_letters')
    .selectAll()
    .orderBy('id')
    .limit(query.limit ?? 50);
  if (query.consumer) select = select.where('consumer', '=', query.consumer);
  if (!query.includeReplayed)
    select = select.where('replayed_at', 'is', null).where('dismissed_at', 'is', null);
  if (query.after !== undefined) select = select.where('id', '>', query.after);
  return select.execute();
}

/**
 * Runs a dead letter through its consumer's handler again (after the cause was
 * fixed), with the same inbox guarantee: an event already applied is not
 * applied twice. On success the dead letter is marked replayed; on failure it
 * stays open with the new error.
 */
export async function replayDeadLetter<DB extends KitTables>(
  db: Kysely<KitTables>,
  consumers: readonly EventConsumer<DB>[],
  id: number,
): Promise<{ outcome: 'applied' | 'duplicate' }> {
  const letter = await db.selectFrom('dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
  if (!letter) throw refusal('not_found', 'DEAD_LETTER_NOT_FOUND', `No dead letter ${id}.`);
  if (letter.replayed_at)
    throw refusal('conflict', 'ALREADY_REPLAYED', `Dead letter ${id} was already replayed.`);
  if (letter.dismissed_at)
    throw refusal(
      'conflict',
      'ALREADY_DISMISSED',
      `Dead letter ${id} was dismissed: ${letter.dismiss_reason}`,
    );
  const consumer = consumers.find((c) => c.name === letter.consumer);
  if (!consumer)
    throw refusal('conflict', 'CONSUMER_NOT_HERE', `Consumer ${letter.consumer} does not run here.`);

  const fail = async (code: string, error: unknown): Promise<never> => {
    const message = error instanceof Error ? error.message : String(error);
    await db
      .updateTable('dead_letters')
      .set({ error: message.slice(0, 4_000), error_code: code, deliveries: letter.deliveries + 1 })
      .where('id', '=', id)
      .execute();
    throw refusal('unprocessable', 'REPLAY_FAILED', `Replay failed (${code}): ${message}`);
  };

  let event;
  try {
    event = parseEvent(JSON.parse(letter.payload));
  } catch (error) {
    return fail('INVALID_EVENT', error);
  }
  const handler = consumer.handlerFor(event.type);
  if (!handler) return fail('NO_HANDLER', new Error(`${consumer.name} has no handler for ${event.type}`));
  let applied: boolean;
  try {
    applied = await consumer.apply(event, handler);
  } catch (error) {
    return fail('HANDLER_FAILED', error);
  }
  // Dismissed meanwhile by another operator: it stays dismissed (the inbox kept the effect single).
  await db
    .updateTable('dead_letters')
    .set({ replayed_at: new Date() })
    .where('id', '=', id)
    .where('dismissed_at', 'is', null)
    .execute();
  return { outcome: applied ? 'applied' : 'duplicate' };
}

/**
 * Closes a dead letter without replaying it: its event is known and will never be applied (a
 * duplicate from a bug since fixed, an event for something deleted), and `reason` says so. Who and
 * when are kept with it. Only an open letter may be dismissed; the update is conditional, so a
 * racing replay or dismissal finds it closed.
 */
export async function dismissDeadLetter(
  db: Kysely<KitTables>,
  id: number,
  dismissal: { by: string; reason: string },
): Promise<DeadLetter> {
  const dismissed = await db
    .updateTable('dead_letters')
    .set({ dismissed_at: new Date(), dismissed_by: dismissal.by, dismiss_reason: dismissal.reason })
    .where('id', '=', id)
    .where('replayed_at', 'is', null)
    .where('dismissed_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (dismissed) return dismissed;
  const letter = await db.selectFrom('dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
  if (!letter) throw refusal('not_found', 'DEAD_LETTER_NOT_FOUND', `No dead letter ${id}.`);
  if (letter.replayed_at)
    throw refusal('conflict', 'ALREADY_REPLAYED', `Dead letter ${id} was already replayed.`);
  throw refusal('conflict', 'ALREADY_DISMISSED', `Dead letter ${id} was already dismissed.`);
}

const deadLetterSchema = z.object({
  id: z.number().int(),
  consumer: z.string(),
  event_id: z.string().nullable(),
  type: z.string().nullable(),
  nats_subject: z.string(),
  stream_sequence: z.number().int().nullable(),
  payload: z.string(),
  error_code: z.string(),
  error: z.string(),
  deliveries: z.number().int(),
  failed_at: z.date(),
  replayed_at: z.date().nullable(),
  dismissed_at: z.date().nullable(),
  dismissed_by: z.string().nullable(),
  dismiss_reason: z.string().nullable(),
});

/** Operator routes: list dead letters, replay one, or dismiss one saying why. Admins only. */
export function registerDeadLetterRoutes<DB extends KitTables>(
  app: HttpApp,
  options: { service: string; db: Kysely<DB>; consumers: readonly EventConsumer<DB>[] },
): void {
  const db = options.db as unknown as Kysely<KitTables>;
  const base = `/api/v1/admin/${options.service}/dead-letters`;
  const tags = ['operations'];

  app.get(
    base,
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary:
          'List dead-lettered events (open ones; include_replayed=true adds the replayed and dismissed)',
        security: [{ bearerAuth: [] }],
        querystring: z.object({
          consumer: z.string().max(100).optional(),
          include_replayed: z.enum(['true', 'false']).default('false'),
          cursor: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: {
          200: z.object({ dead_letters: z.array(deadLetterSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const { consumer, include_replayed, cursor, limit } = request.query;
      const rows = await listDeadLetters(db, {
        ...(consumer ? { consumer } : {}),
        includeReplayed: include_replayed === 'true',
        ...(cursor !== undefined ? { after: cursor } : {}),
        limit,
      });
      const last = rows.at(-1);
      return { dead_letters: rows, next_cursor: rows.length === limit && last ? String(last.id) : null };
    },
  );

  app.post(
    `${base}/:id/replay`,
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary: 'Replay a dead-lettered event through its handler',
        security: [{ bearerAuth: [] }],
        params: z.object({ id: z.coerce.number().int().positive() }),
        response: { 200: z.object({ outcome: z.enum(['applied', 'duplicate']) }) },
      },
    },
    async (request) => replayDeadLetter(db, options.consumers, request.params.id),
  );

  app.post(
    `${base}/:id/dismiss`,
    {
      preHandler: requireRole('admin'),
      schema: {
        tags,
        summary: 'Close a dead letter without replaying it, saying why',
        security: [{ bearerAuth: [] }],
        params: z.object({ id: z.coerce.number().int().positive() }),
        body: z.object({ reason: z.string().trim().min(10).max(1_000) }),
        response: { 200: z.object({ dead_letter: deadLetterSchema }) },
      },
    },
    async (request) => {
      const dismissed = await dismissDeadLetter(db, request.params.id, {
        by: principalOf(request).userId,
        reason: request.body.reason,
      });
      request.log.warn(
        { dead_letter: dismissed.id, event_id: dismissed.event_id, consumer: dismissed.consumer },
        'dead letter dismissed without replay',
      );
      return { dead_letter: dismissed };
    },
  );
}
