import type { Rejection, RejectionCode } from './errors.ts';
import type { StoredEvent } from './events.ts';
import type { TransferRecord } from './transfer-state.ts';

/**
 * What a decision relied on about a stream, which the writer turns into an expected revision:
 * - `no_stream`: the stream is created by this write (a new transfer, an account opened on first use);
 * - `as_read`: the decision read this stream's state and depends on it (a constrained account it
 *   debits, a pending transfer it resolves): the stream must still be at the revision it was read at;
 * - `exists`: the events stay valid whatever else is appended concurrently, as long as the stream
 *   was opened (a credit, or an entry that cannot break the account's constraint).
 */
export type StreamExpectation = 'no_stream' | 'as_read' | 'exists';

export interface StreamWrite {
  stream: string;
  expect: StreamExpectation;
  events: StoredEvent[];
}

export type TransferDecision =
  | { kind: 'decided'; writes: StreamWrite[]; transfers: TransferRecord[] }
  | { kind: 'replayed'; transfers: TransferRecord[] }
  | { kind: 'rejected'; rejection: Rejection };

export type ResolutionDecision =
  | { kind: 'decided'; writes: StreamWrite[]; transfer: TransferRecord }
  | { kind: 'replayed'; transfer: TransferRecord }
  | { kind: 'rejected'; rejection: Rejection };

/**
 * The refusal of a command of one or several linked transfers: the failing transfer's code and id
 * at the top, and for a chain, every transfer with its own code (`LINKED_FAILED` for the others).
 */
export function chainRejection(
  ids: readonly string[],
  index: number,
  code: RejectionCode,
  detail: string,
): Rejection {
  const transferId = ids[index];
  if (transferId === undefined) throw new RangeError(`no transfer at ${index} in a chain of ${ids.length}`);
  if (ids.length === 1) return { code, detail, transfer_id: transferId };
  return {
    code,
    detail: `${detail} (transfer ${index + 1} of a linked chain of ${ids.length}: none was recorded)`,
    transfer_id: transferId,
    linked: ids.map((id, i) => ({ transfer_id: id, code: i === index ? code : 'LINKED_FAILED' })),
  };
}
