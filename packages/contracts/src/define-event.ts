import type { z } from 'zod';
import { EVENT_TYPE_PATTERN } from './envelope.ts';

export type EventTypeName = `${string}.${string}.${string}.v${number}`;

export interface EventDefinition<T extends EventTypeName = EventTypeName, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  /** The producing service; its stream is bound to `<producer>.>`. */
  readonly producer: string;
  readonly aggregate: string;
  readonly name: string;
  readonly version: number;
  readonly description: string;
  readonly data: S;
}

export function defineEvent<const T extends EventTypeName, S extends z.ZodObject>(
  type: T,
  spec: { description: string; data: S },
): EventDefinition<T, S> {
  if (!EVENT_TYPE_PATTERN.test(type)) {
    throw new Error(`event type "${type}" is not <producer>.<aggregate>.<event>.v<major>`);
  }
  const [producer, aggregate, name, version] = type.split('.') as [string, string, string, string];
  return { type, producer, aggregate, name, version: Number(version.slice(1)), ...spec };
}
