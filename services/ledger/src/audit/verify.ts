import { type CanonicalEvent, GENESIS_HASH, hashEventAfter, isHexHash } from './chain.ts';
import { Findings, type Report, formatCount, plural } from './report.ts';
import { type Seal, verifySeal } from './seal.ts';
import type { TrustedKey } from './seal-keys.ts';

export interface KeyRing {
  keys: TrustedKey[];
  /** Given by the auditor (`--public-key`), rather than taken from the data being verified. */
  pinned: boolean;
  /** Where the keys came from, for the report. */
  source: string;
}

/**
 * Checks a hash chain link by link and its seals as they come. Each link must follow the previous
 * one (dense seq, prev_hash = the previous hash) and hash its event; each seal must name the hash
 * of the link just before it and carry a valid signature by a trusted key. Together these pin every
 * event up to the last valid seal: altering, removing, inserting or reordering any of them breaks
 * a hash, a link or a seal.
 */
export class ChainChecker {
  readonly links = new Findings();
  readonly seals = new Findings();
  private expectedSeq = 1;
  private readonly keys: Map<string, TrustedKey>;
  lastSeq = 0;
  lastHash = GENESIS_HASH;
  private lastHashOk = true;
  chained = 0;
  sealCount = 0;
  validSeals = 0;
  lastSealedSeq = 0;
  private currentSeq = 0;
  private current: CanonicalEvent | undefined;
  /** Describes the link being checked: one function for all links, built only for a finding. */
  private readonly at = (): string => {
    const event = this.current!;
    return `seq ${this.currentSeq} (${event.type} ${event.id} in ${event.stream} at revision ${event.revision})`;
  };

  constructor(readonly ring: KeyRing) {
    this.keys = new Map(ring.keys.map((key) => [key.keyId, key]));
  }

  link(seq: number, event: CanonicalEvent, prevHash: string, hash: string): void {
    this.chained += 1;
    this.currentSeq = seq;
    this.current = event;
    const { at } = this;
    if (seq > this.expectedSeq) {
      const missing = seq - this.expectedSeq;
      this.links.add(
        `seq ${seq} found where seq ${this.expectedSeq} was expected: ${plural(missing, 'event')} missing or moved`,
      );
    } else if (seq < this.expectedSeq) {
      this.links.add(`seq ${seq} found after seq ${this.lastSeq}: out of order or duplicated`);
    }
    // The previous link's hash was checked already: most links need one regex test, not two.
    const prevOk = prevHash === this.lastHash ? this.lastHashOk : isHexHash(prevHash);
    let recomputed: string | undefined;
    let failure: unknown;
    if (prevOk) {
      try {
        recomputed = hashEventAfter(prevHash, seq, event);
      } catch (error) {
        failure = error;
      }
    }
    // A hash equal to the digest just computed is 64 lowercase hex digits: sound links need no regex.
    const hashOk = (recomputed !== undefined && recomputed === hash) || isHexHash(hash);
    if (!prevOk || !hashOk) {
      this.links.add(`${at()}: malformed hash`);
    } else {
      if (prevHash !== this.lastHash) {
        this.links.add(`${at()}: prev_hash is not the hash of the link before it (seq ${this.lastSeq})`);
      }
      if (failure !== undefined) {
        this.links.add(`${at()}: cannot be canonicalized: ${(failure as Error).message}`);
      }
      if (recomputed !== undefined && recomputed !== hash) {
        this.links.add(`${at()}: hash does not match the event: the event was altered after it was chained`);
      }
    }
    this.expectedSeq = Math.max(this.expectedSeq, seq + 1);
    this.lastSeq = seq;
    this.lastHash = hash;
    this.lastHashOk = hashOk;
  }

  seal(seal: Seal): void {
    this.sealCount += 1;
    const at = `seal at seq ${seal.seq}`;
    let ok = true;
    const fail = (problem: string) => {
      ok = false;
      this.seals.add(`${at}: ${problem}`);
    };
    if (seal.seq !== this.lastSeq) fail(`placed after seq ${this.lastSeq}, not after the event it seals`);
    else if (seal.hash !== this.lastHash) {
      fail('the sealed hash is not the chain hash there: events up to it were altered, removed or reordered');
    }
    const key = this.keys.get(seal.key_id);
    if (!key) {
      const trusted = [...this.keys.keys()].join(', ') || 'none';
      fail(`signed by key ${seal.key_id}, which is not trusted (trusted: ${trusted})`);
    } else if (!verifySeal(seal, key.publicKey)) {
      fail(`signature does not verify with key ${seal.key_id}: the seal is forged or was altered`);
    }
    if (ok) {
      this.validSeals += 1;
      this.lastSealedSeq = Math.max(this.lastSealedSeq, seal.seq);
    }
  }

  /** Adds the chain's sections to `report`. `strictSeals`: a chain with no valid seal fails. */
  report(report: Report, options: { strictSeals: boolean }): void {
    const chain = report.section('Hash chain');
    chain.check(
      this.links,
      this.chained === 0
        ? 'nothing chained yet'
        : `${plural(this.chained, 'event')} chained: seq 1..${formatCount(this.lastSeq)} dense, every hash recomputed from its event`,
      'chain broken',
    );

    const seals = report.section('Seals');
    const keys = this.ring.keys.map((k) => k.keyId).join(', ') || 'none';
    if (this.ring.pinned) seals.info(`trusted key: ${keys} (pinned by the auditor)`);
    else {
      seals.warn(
        `trusting the key${this.ring.keys.length === 1 ? '' : 's'} from ${this.ring.source} (${keys}): ` +
          'pin your own copy with --public-key',
      );
    }
    seals.check(this.seals, `${plural(this.validSeals, 'seal')} verified`, 'bad seals');
    if (this.chained === 0) return;
    if (this.validSeals === 0) {
      const text = `no valid seal: none of the ${plural(this.chained, 'chained event')} is signed`;
      if (options.strictSeals) seals.fail(text);
      else seals.warn(text);
    } else if (this.lastSealedSeq < this.lastSeq) {
      seals.warn(
        `unsealed tail: ${plural(this.lastSeq - this.lastSealedSeq, 'event')} after the last seal (seq ${formatCount(this.lastSealedSeq)})`,
      );
    } else {
      seals.ok(`the last event (seq ${formatCount(this.lastSeq)}) is sealed`);
    }
  }
}
