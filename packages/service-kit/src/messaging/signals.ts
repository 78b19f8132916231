import { signalSubjectFor } from '@tessera/contracts';
import type { Bus } from './bus.ts';

/**
 * Signals between the instances of one service, over plain NATS: what one instance learned that
 * another may be waiting for (a claim stored, say). Never stored and at most once: a signal lost
 * (no connection at that moment, an instance starting) is a wake-up missed, so whatever waits on
 * one must also look on its own. Not for facts: those are events, through the outbox.
 *
 * The service's NATS user may publish and subscribe on its own `signals.<service>.>` only
 * (infra/nats/src/permissions.ts). Every instance hears its own signals too.
 */
export interface InstanceSignals {
  /** Best effort: never throws, a closed or reconnecting connection drops it. */
  send(topic: string, payload: string): void;
  /** Calls `hear` with each payload sent on `topic`, by any instance; returns the unsubscribe. */
  listen(topic: string, hear: (payload: string) => void): () => void;
}

const TOPIC = /^[a-z0-9-]{1,64}$/;

function subjectOf(bus: Bus, service: string, topic: string): string {
  if (!TOPIC.test(topic)) throw new TypeError(`signal topic "${topic}": lower-case letters, digits and -`);
  return signalSubjectFor(service, topic, bus.ns);
}

export function instanceSignals(bus: Bus, service: string): InstanceSignals {
  return {
    send(topic, payload) {
      const subject = subjectOf(bus, service, topic);
      try {
        bus.nc.publish(subject, payload);
      } catch {
        // Closed or draining: the waiters look on their own.
      }
    },
    listen(topic, hear) {
      const subscription = bus.nc.subscribe(subjectOf(bus, service, topic), {
        callback: (error, message) => {
          if (!error) hear(message.string());
        },
      });
      return () => {
        if (!subscription.isClosed()) subscription.unsubscribe();
      };
    },
  };
}
