import { z } from 'zod';
import { defineEvent } from '../define-event.ts';

/**
 * Diagnostics: a probe any service can record to prove its outbox, relay and
 * consumers work end to end (the service kit's own tests use it too).
 */
export const diagnosticsEvents = [
  defineEvent('diagnostics.probe.recorded.v1', {
    description: 'A probe was recorded; consumers that track probes count it once.',
    data: z.object({
      probe_id: z.string().min(1).max(100),
      note: z.string().max(500).optional(),
    }),
  }),
] as const;
