import type { z } from 'zod';
import type { EventDefinition } from './define-event.ts';
import { diagnosticsEvents } from './events/diagnostics.ts';
import { engagementEvents } from './events/engagement.ts';
import { identityEvents } from './events/identity.ts';
import { ledgerEvents } from './events/ledger.ts';
import { payoutsEvents } from './events/payouts.ts';
import { qcEvents } from './events/qc.ts';
import { submissionsEvents } from './events/submissions.ts';
import { tasksEvents } from './events/tasks.ts';

/** Every published event definition. A service issue appends its own family here. */
export const eventDefinitions = [
  ...diagnosticsEvents,
  ...identityEvents,
  ...tasksEvents,
  ...submissionsEvents,
  ...qcEvents,
  ...ledgerEvents,
  ...payoutsEvents,
  ...engagementEvents,
] as const;

type Definitions = (typeof eventDefinitions)[number];

export type EventType = Definitions['type'];

export type Catalog = { readonly [D in Definitions as D['type']]: D };

export const catalog: Catalog = catalogOf(eventDefinitions) as Catalog;

/** Maps type → definition; a type defined twice is a mistake that would silently drop one. */
export function catalogOf(
  definitions: readonly EventDefinition[],
): Readonly<Record<string, EventDefinition>> {
  const byType: Record<string, EventDefinition> = {};
  for (const definition of definitions) {
    if (Object.hasOwn(byType, definition.type))
      throw new Error(`event type "${definition.type}" is defined twice`);
    byType[definition.type] = definition;
  }
  return byType;
}

export type EventData<T extends EventType> = z.infer<Catalog[T]['data']>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(catalog, type);
}

export function definitionOf(type: EventType): EventDefinition {
  return catalog[type];
}

export const producers: readonly string[] = [...new Set(eventDefinitions.map((d) => d.producer))].sort();
