import type { EventType } from '@tessera/contracts';
import type { EventHandler, HandlerMap } from '@tessera/service-kit';
import type { EngagementDB } from '../db/schema.ts';

type Handler = EventHandler<EngagementDB>;

/**
 * One handler map from several: where capabilities react to the same event, their handlers run one
 * after another, in the order given, inside the consumer's single inbox transaction. A failure in
 * any of them rolls back all of them, and the redelivery applies all of them again.
 */
export function composeHandlers(maps: readonly HandlerMap<EngagementDB>[]): HandlerMap<EngagementDB> {
  const byType = new Map<EventType, Handler[]>();
  for (const map of maps) {
    for (const [type, handler] of Object.entries(map) as [EventType, Handler | undefined][]) {
      if (!handler) continue;
      byType.set(type, [...(byType.get(type) ?? []), handler]);
    }
  }
  const composed: Record<string, Handler> = {};
  for (const [type, handlers] of byType) {
    composed[type] =
      handlers.length === 1
        ? handlers[0]!
        : async (event, trx) => {
            for (const handler of handlers) await handler(event, trx);
          };
  }
  return composed;
}
