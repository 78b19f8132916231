/**
 * What the replay must still know about every transfer it has met, once the transfer itself is
 * done with: its state (so that a second creation, or a resolution of a transfer that is not
 * pending, is caught) and the last revision of its stream (so that revisions stay checked dense).
 * A Map of UUID strings costs over 100 bytes a transfer; this open-addressing table keeps the 16
 * bytes of the UUID, one byte of state and the revision: about 25 bytes a slot, 35–70 bytes a
 * transfer at its load factor. Ids that are not lowercase UUIDs (only a broken log has them) go to
 * an ordinary Map.
 */

export const TransferState = { none: 0, pending: 1, posted: 2, voided: 3, expired: 4 } as const;
export type TransferStateCode = (typeof TransferState)[keyof typeof TransferState];

interface Entry {
  state: number;
  /** NaN: no event seen in the transfer's stream yet. */
  revision: number;
}

const words = new Uint32Array(4);

/** The four 32-bit words of a lowercase UUID, into `words`; false for anything else. */
function parseUuid(id: string): boolean {
  if (id.length !== 36) return false;
  let word = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < 36; i += 1) {
    const c = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
      continue;
    }
    const nibble = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (nibble < 0) return false;
    value = ((value << 4) | nibble) >>> 0;
    digits += 1;
    if (digits === 8) {
      words[word] = value;
      word += 1;
      value = 0;
      digits = 0;
    }
  }
  return true;
}

export class TransferIndex {
  private keys = new Uint32Array(4 * 1024);
  private states = new Uint8Array(1024);
  private revisions = new Float64Array(1024);
  private used = new Uint8Array(1024);
  private count = 0;
  private readonly others = new Map<string, Entry>();

  get size(): number {
    return this.count + this.others.size;
  }

  state(id: string): number {
    const slot = this.find(id, false);
    if (slot === -2) return this.others.get(id)?.state ?? TransferState.none;
    return slot < 0 ? TransferState.none : this.states[slot]!;
  }

  setState(id: string, state: TransferStateCode): void {
    const slot = this.find(id, true);
    if (slot >= 0) this.states[slot] = state;
    else this.other(id).state = state;
  }

  /** The last revision seen in the stream of transfer `id`, or undefined. */
  revision(id: string): number | undefined {
    const slot = this.find(id, false);
    const revision =
      slot === -2 ? this.others.get(id)?.revision : slot < 0 ? undefined : this.revisions[slot];
    return revision === undefined || Number.isNaN(revision) ? undefined : revision;
  }

  /**
   * Records that the stream of transfer `id` reached `revision` (its last revision stays the
   * highest seen) and returns the last revision it had before, or undefined for a new stream.
   */
  raiseRevision(id: string, revision: number): number | undefined {
    const slot = this.find(id, true);
    const previous = slot >= 0 ? this.revisions[slot]! : this.other(id).revision;
    const seen = !Number.isNaN(previous);
    const next = Math.max(seen ? previous : -1, revision);
    if (slot >= 0) this.revisions[slot] = next;
    else this.other(id).revision = next;
    return seen ? previous : undefined;
  }

  /** How much memory the table holds, for the report. */
  get bytes(): number {
    return this.keys.byteLength + this.states.byteLength + this.revisions.byteLength + this.used.byteLength;
  }

  private other(id: string): Entry {
    let entry = this.others.get(id);
    if (!entry) {
      entry = { state: TransferState.none, revision: Number.NaN };
      this.others.set(id, entry);
    }
    return entry;
  }

  /** The slot of `id` (created if asked), -1 when absent, -2 when `id` is not a lowercase UUID. */
  private find(id: string, create: boolean): number {
    if (!parseUuid(id)) return -2;
    const a = words[0]!;
    const b = words[1]!;
    const c = words[2]!;
    const d = words[3]!;
    const mask = this.used.length - 1;
    let slot = (Math.imul(a ^ c, 0x9e3779b1) ^ Math.imul(b ^ d, 0x85ebca6b)) & mask;
    for (;;) {
      if (this.used[slot] === 0) break;
      const k = slot * 4;
      if (this.keys[k] === a && this.keys[k + 1] === b && this.keys[k + 2] === c && this.keys[k + 3] === d) {
        return slot;
      }
      slot = (slot + 1) & mask;
    }
    if (!create) return -1;
    if ((this.count + 1) * 4 > this.used.length * 3) {
      this.grow();
      return this.find(id, true);
    }
    this.used[slot] = 1;
    this.keys[slot * 4] = a;
    this.keys[slot * 4 + 1] = b;
    this.keys[slot * 4 + 2] = c;
    this.keys[slot * 4 + 3] = d;
    this.states[slot] = TransferState.none;
    this.revisions[slot] = Number.NaN;
    this.count += 1;
    return slot;
  }

  private grow(): void {
    const { keys, states, revisions, used } = this;
    const size = used.length * 2;
    this.keys = new Uint32Array(4 * size);
    this.states = new Uint8Array(size);
    this.revisions = new Float64Array(size);
    this.used = new Uint8Array(size);
    const mask = size - 1;
    for (let old = 0; old < used.length; old += 1) {
      if (used[old] === 0) continue;
      const k = old * 4;
      let slot =
        (Math.imul(keys[k]! ^ keys[k + 2]!, 0x9e3779b1) ^
          Math.imul(keys[k + 1]! ^ keys[k + 3]!, 0x85ebca6b)) &
        mask;
      while (this.used[slot] !== 0) slot = (slot + 1) & mask;
      this.used[slot] = 1;
      this.keys.set(keys.subarray(k, k + 4), slot * 4);
      this.states[slot] = states[old]!;
      this.revisions[slot] = revisions[old]!;
    }
  }
}
