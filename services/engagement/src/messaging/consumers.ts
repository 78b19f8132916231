import { type EventType, producerOf } from '@tessera/contracts';
import type { ConsumerSpec, HandlerMap } from '@tessera/service-kit';
import { capabilities } from '../capabilities.ts';
import type { EngagementContext } from '../context.ts';
import type { EngagementDB } from '../db/schema.ts';
import { lockUsersOf } from '../notifications/order.ts';
import { composeHandlers } from './compose.ts';
import { CATALOG_EVENTS, catalogWaitsTrigger } from './waits.ts';

/** The streams engagement reads; its consumer of each is `engagement-<producer>`. */
export const producers = [
  'identity',
  'tasks',
  'submissions',
  'qc',
  'ledger',
  'payouts',
  'engagement',
] as const;
export type Producer = (typeof producers)[number];

/** Consumer names, also their keys in the inbox (tests wait on them). */
export const consumerNames = Object.fromEntries(producers.map((p) => [p, `engagement-${p}`])) as Record<
  Producer,
  string
>;

/**
 * One durable consumer per stream read (nats-server 2.9: one filter each), in stream order. Its
 * handlers are every capability's for that stream's events, composed in the capabilities' order.
 * Engagement reads its own stream too: a level change or an unlocked badge becomes a notification
 * after it is committed, like any other event. Each takes the user locks of a batch first
 * (notifications/order.ts `lockUsersOf`).
 */
export function engagementConsumers(context: EngagementContext): ConsumerSpec<EngagementDB>[] {
  const all = composeHandlers(capabilities.map((capability) => capability.handlers?.(context) ?? {}));
  return producers.flatMap((producer) => {
    const handlers = Object.fromEntries(
      Object.entries(all).filter(([type]) => producerOf(type as EventType) === producer),
    ) as HandlerMap<EngagementDB>;
    if (Object.keys(handlers).length === 0) return [];
    // A task or campaign announced: the events that waited for it are applied now, not at the
    // catalog job's next interval (catalog/waits.ts).
    const trigger = catalogWaitsTrigger(context);
    const hooks =
      producer === 'tasks'
        ? {
            afterCommit: (event: { type: string }) =>
              void (CATALOG_EVENTS.includes(event.type as never) && trigger.pull()),
          }
        : undefined;
    return [
      {
        name: consumerNames[producer],
        producer,
        filter: `${producer}.>`,
        handlers,
        lockFirst: lockUsersOf,
        ...(hooks ? { hooks } : {}),
      },
    ];
  });
}
