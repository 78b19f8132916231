/**
 * Where events live on NATS. One JetStream stream per producing service, bound
 * to `<producer>.>`; an event's NATS subject is its type. A prefix (a test file,
 * a tenant, a developer's sandbox) namespaces both, so that runs sharing one
 * NATS server never see each other's events.
 */
export interface Namespace {
  /** Lower-case letters, digits and `_`; empty for none. */
  readonly prefix: string;
}

const PREFIX_PATTERN = /^[a-z0-9_]*$/;

export function namespace(prefix = ''): Namespace {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error(`invalid subject prefix "${prefix}"`);
  return { prefix };
}

export function producerOf(type: string): string {
  const producer = type.split('.')[0];
  if (!producer) throw new Error(`event type "${type}" has no producer`);
  return producer;
}

export function subjectFor(type: string, ns: Namespace = namespace()): string {
  return ns.prefix ? `${ns.prefix}.${type}` : type;
}

export function typeFromSubject(subject: string, ns: Namespace = namespace()): string {
  return ns.prefix && subject.startsWith(`${ns.prefix}.`) ? subject.slice(ns.prefix.length + 1) : subject;
}

export function streamFor(
  producer: string,
  ns: Namespace = namespace(),
): { name: string; subjects: string[] } {
  const base = producer.toUpperCase().replace(/-/g, '_');
  return {
    name: ns.prefix ? `${ns.prefix.toUpperCase()}_${base}` : base,
    subjects: [subjectFor(`${producer}.>`, ns)],
  };
}

/**
 * Where a service's instances signal one another over plain NATS (never stored, at most once):
 * `signals.<service>.<topic>`. No stream is bound there, since no producer is named `signals`.
 */
export function signalSubjectFor(service: string, topic: string, ns: Namespace = namespace()): string {
  return subjectFor(`signals.${service}.${topic}`, ns);
}
