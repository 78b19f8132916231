import { z } from 'zod';

/** `<producer>.<aggregate>.<event-in-past-tense>.v<major>`, e.g. `submissions.submission.approved.v1`. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.v[1-9][0-9]*$/;

/** W3C trace context: version-traceid-parentid-flags. */
export const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The envelope every event travels in: CloudEvents 1.0 attribute names, plus
 * correlation and causation ids and a W3C traceparent so that one user action
 * can be followed across services. `data` is validated separately, against the
 * schema the catalog holds for `type`.
 */
export const envelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().min(1).max(200),
  type: z.string().regex(EVENT_TYPE_PATTERN),
  subject: z.string().min(1).max(200),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  correlationid: z.string().min(1).max(200),
  causationid: z.string().min(1).max(200).optional(),
  traceparent: z.string().regex(TRACEPARENT_PATTERN).optional(),
  data: z.unknown(),
});

export type EnvelopeAttributes = Omit<z.infer<typeof envelopeSchema>, 'data'>;

export interface EventEnvelope<T extends string = string, D = unknown> extends EnvelopeAttributes {
  type: T;
  data: D;
}
