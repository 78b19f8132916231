import { z } from 'zod';
import type { JsonObject } from '../store/event-store.ts';
import { canonicalize } from './canonical.ts';
import { type CanonicalEvent, GENESIS_HASH } from './chain.ts';
import type { Seal } from './seal.ts';

/**
 * The export: NDJSON, each line canonical JSON. First a header, then one line per chained event in
 * seq order, each seal on the line after the event it seals:
 *   {"canonicalization":"RFC 8785",...,"public_keys":[{"created_at":…,"key_id":…,"public_key":"-----BEGIN PUBLIC KEY-----…"}],…}
 *   {"event":{"data":…,"id":…,…},"hash":…,"prev_hash":…,"seq":1}
 *   {"seal":{"hash":…,"key_id":…,"sealed_at":…,"seq":1000,"signature":…}}
 */

export const EXPORT_FORMAT = 'tessera.ledger.audit-export';
export const EXPORT_VERSION = 1;

const hexHash = z.string().regex(/^[0-9a-f]{64}$/, 'not 64 lowercase hex digits');
// JSON.parse only ever yields JSON: checking the values again would only cost time.
const jsonObject = z.record(z.string(), z.unknown());

export const exportHeaderSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  created_at: z.string(),
  hash_algorithm: z.literal('SHA-256'),
  canonicalization: z.literal('RFC 8785'),
  signature_algorithm: z.literal('Ed25519'),
  genesis_hash: z.literal(GENESIS_HASH),
  public_keys: z.array(
    z.object({ key_id: z.string(), public_key: z.string(), created_at: z.string().nullable() }),
  ),
});
export type ExportHeader = z.infer<typeof exportHeaderSchema>;

export const exportEventLineSchema = z.strictObject({
  seq: z.number().int().positive(),
  event: z.strictObject({
    id: z.string(),
    stream: z.string(),
    revision: z.number().int().nonnegative(),
    type: z.string(),
    data: jsonObject,
    metadata: jsonObject,
    recorded_at: z.string(),
  }),
  prev_hash: hexHash,
  hash: hexHash,
});

export const exportSealLineSchema = z.strictObject({
  seal: z.strictObject({
    seq: z.number().int().positive(),
    hash: hexHash,
    sealed_at: z.string(),
    key_id: z.string(),
    signature: z.string(),
  }),
});

export interface ExportEventLine {
  seq: number;
  event: CanonicalEvent;
  prev_hash: string;
  hash: string;
}

export type ExportLine =
  | { kind: 'event'; line: ExportEventLine }
  | { kind: 'seal'; seal: Seal }
  | { kind: 'invalid'; problem: string };

export function headerLine(header: ExportHeader): string {
  return canonicalize(header);
}

export function eventLine(line: ExportEventLine): string {
  return canonicalize(line);
}

export function sealLine(seal: Seal): string {
  return canonicalize({ seal });
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(line)'}: ${issue.message}` : 'invalid';
}

export function parseHeader(text: string): ExportHeader | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the header is not JSON';
  }
  const parsed = exportHeaderSchema.safeParse(value);
  return parsed.success
    ? parsed.data
    : `not a version ${EXPORT_VERSION} ${EXPORT_FORMAT} header: ${describe(parsed.error)}`;
}

export function parseLine(text: string): ExportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', problem: 'not JSON' };
  }
  if (typeof value === 'object' && value !== null && 'seal' in value) {
    const parsed = exportSealLineSchema.safeParse(value);
    return parsed.success
      ? { kind: 'seal', seal: parsed.data.seal }
      : { kind: 'invalid', problem: `not a seal line: ${describe(parsed.error)}` };
  }
  const parsed = exportEventLineSchema.safeParse(value);
  if (!parsed.success) return { kind: 'invalid', problem: `not an event line: ${describe(parsed.error)}` };
  const { seq, event, prev_hash, hash } = parsed.data;
  return {
    kind: 'event',
    line: {
      seq,
      prev_hash,
      hash,
      event: { ...event, data: event.data as JsonObject, metadata: event.metadata as JsonObject },
    },
  };
}
