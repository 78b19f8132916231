import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '../engine/ledger.ts';
import { createMemoryEventStore } from '../store/memory-store.ts';
import type { RecordedEvent } from '../store/event-store.ts';
import { balanceAt } from './balance.ts';
import { hashEvent } from './chain.ts';
import { eventLine, parseLine, sealLine } from './export-format.ts';
import { createSigner } from './seal-keys.ts';
import { driveLedger, manualClock } from './testing/activity.ts';
import { exportLines } from './testing/export.ts';
import { verifyExport } from './verify-file.ts';

const signer = createSigner(generateKeyPairSync('ed25519').privateKey);
const attacker = createSigner(generateKeyPairSync('ed25519').privateKey);
let events: RecordedEvent[];
let lines: string[];
let user: string;
let userBalance: number;

beforeAll(async () => {
  const store = createMemoryEventStore();
  const clock = manualClock();
  const engine = createLedger(store, { clock: clock.now });
  const summary = await driveLedger(engine, { clock, rounds: 2, users: 3 });
  events = store.all();
  lines = await exportLines(events, signer, { sealEvery: 25 });
  user = [...summary.accounts].find((a) => a.startsWith('user:'))!;
  const account = await engine.getAccount(user, 'USD');
  userBalance = account!.credits_posted - account!.debits_posted;
});

const failuresOf = async (file: string[], pinned = signer.publicKey) =>
  (await verifyExport({ lines: file, pinnedKey: pinned })).failureTexts().join('\n');

/** Index of the n-th event line (0-based) of the file. */
function eventLineIndex(file: string[], n: number): number {
  let seen = -1;
  for (const [i, text] of file.entries()) {
    if (i > 0 && parseLine(text).kind === 'event' && ++seen === n) return i;
  }
  throw new Error(`no event line ${n}`);
}

function editEvent(text: string, change: (line: ReturnType<typeof asEvent>) => void): string {
  const line = asEvent(text);
  change(line);
  return eventLine(line);
}

function asEvent(text: string) {
  const parsed = parseLine(text);
  if (parsed.kind !== 'event') throw new Error('not an event line');
  return parsed.line;
}

describe('export round trip', () => {
  it('writes a header, every event in seq order, and each seal after the event it seals', () => {
    expect(JSON.parse(lines[0]!)).toMatchObject({
      format: 'tessera.ledger.audit-export',
      version: 1,
      public_keys: [{ key_id: signer.keyId }],
    });
    const kinds = lines.slice(1).map((l) => parseLine(l));
    const seqs = kinds.flatMap((k) => (k.kind === 'event' ? [k.line.seq] : []));
    expect(seqs).toEqual(events.map((_, i) => i + 1));
    for (const [i, k] of kinds.entries()) {
      if (k.kind === 'seal') {
        const before = kinds[i - 1];
        expect(before?.kind === 'event' && before.line.seq).toBe(k.seal.seq);
      }
    }
  });

  it('verifies with the pinned key and replays the whole ledger from the file alone', async () => {
    const report = await verifyExport({ lines, pinnedKey: signer.publicKey });
    expect(report.failureTexts()).toEqual([]);
    expect(report.warnings).toBe(0);
    const text = report.render();
    expect(text).toContain(`✓ ${events.length} events chained`);
    expect(text).toMatch(/✓ the last event \(seq \d+\) is sealed/);
    expect(text).toContain('(pinned by the auditor)');
    expect(text).toContain('✓ USD: posted debits');
  });

  it('gives point-in-time balances from the file', async () => {
    const fileEvents = lines.slice(1).flatMap((l) => {
      const p = parseLine(l);
      return p.kind === 'event' ? [{ seq: p.line.seq, ...p.line.event }] : [];
    });
    const now = await balanceAt(fileEvents, { account: user, at: { seq: fileEvents.length } });
    const b = now.accounts[0]!.balances;
    expect(Number(b.credits_posted - b.debits_posted)).toBe(userBalance);
    const before = await balanceAt(fileEvents, { account: user, at: { seq: 1 } });
    expect(before.accounts).toEqual([]);
  });

  it('trusts the header’s key only with a warning to pin one', async () => {
    const report = await verifyExport({ lines });
    expect(report.passed).toBe(true);
    expect(report.render()).toMatch(
      /! trusting the key from the file's own header .* pin your own copy with --public-key/,
    );
  });

  it('warns about an unsealed tail, with its size', async () => {
    const tail = await exportLines(events, signer, { sealEvery: events.length - 3, sealLast: false });
    const report = await verifyExport({ lines: tail, pinnedKey: signer.publicKey });
    expect(report.passed).toBe(true);
    expect(report.render()).toContain(
      `! unsealed tail: 3 events after the last seal (seq ${events.length - 3})`,
    );
  });
});

describe('tampering with an export', () => {
  it('detects one altered field of one event', async () => {
    const i = eventLineIndex(lines, 10);
    const original = asEvent(lines[i]!);
    const file = [...lines];
    file[i] = editEvent(file[i]!, (l) => (l.event.recorded_at = '2030-01-01T00:00:00.000Z'));
    expect(await failuresOf(file)).toContain(
      `seq ${original.seq} (${original.event.type} ${original.event.id} in ${original.event.stream} at revision ` +
        `${original.event.revision}): hash does not match the event: the event was altered after it was chained`,
    );
  });

  it('detects an altered amount even when every later hash is recomputed to match', async () => {
    const i = eventLineIndex(lines, 3);
    const file = [...lines];
    let prev = asEvent(file[i]!).prev_hash;
    for (let j = i; j < file.length; j += 1) {
      const parsed = parseLine(file[j]!);
      if (parsed.kind !== 'event') continue;
      const line = parsed.line;
      if (j === i) line.event.metadata = { note: 'edited' };
      line.prev_hash = prev;
      line.hash = hashEvent(prev, line.seq, line.event);
      prev = line.hash;
      file[j] = eventLine(line);
    }
    const failures = await failuresOf(file);
    expect(failures).not.toMatch(/hash does not match|prev_hash/);
    expect(failures).toMatch(/seal at seq 25: the sealed hash is not the chain hash there/);
  });

  it('detects a deleted event line', async () => {
    const i = eventLineIndex(lines, 7);
    const missing = asEvent(lines[i]!).seq;
    const file = lines.filter((_, j) => j !== i);
    const failures = await failuresOf(file);
    expect(failures).toContain(
      `seq ${missing + 1} found where seq ${missing} was expected: 1 event missing or moved`,
    );
    expect(failures).toMatch(
      new RegExp(`seq ${missing + 1} .*: prev_hash is not the hash of the link before it`),
    );
  });

  it('detects two swapped event lines', async () => {
    const i = eventLineIndex(lines, 12);
    const j = eventLineIndex(lines, 13);
    expect(j).toBe(i + 1);
    const file = [...lines];
    [file[i], file[j]] = [file[j]!, file[i]!];
    const a = asEvent(lines[i]!).seq;
    const failures = await failuresOf(file);
    expect(failures).toContain(`seq ${a} found after seq ${a + 1}: out of order or duplicated`);
  });

  it('detects a forged seal', async () => {
    const i = lines.findIndex((l, k) => k > 0 && parseLine(l).kind === 'seal');
    const seal = parseLine(lines[i]!);
    if (seal.kind !== 'seal') throw new Error('no seal');
    const file = [...lines];
    // The attacker's signature under the real key's id.
    file[i] = sealLine({ ...attacker.sign(seal.seal), key_id: signer.keyId });
    expect(await failuresOf(file)).toContain(
      `seal at seq ${seal.seal.seq}: signature does not verify with key ${signer.keyId}: the seal is forged or was altered`,
    );
  });

  it('detects a file re-signed with another key when the auditor pins the real one', async () => {
    const forged = lines.map((l, k) => {
      const p = k === 0 ? undefined : parseLine(l);
      return p?.kind === 'seal' ? sealLine(attacker.sign(p.seal)) : l;
    });
    expect(await failuresOf(forged)).toContain(
      `signed by key ${attacker.keyId}, which is not trusted (trusted: ${signer.keyId})`,
    );
  });

  it('reports a malformed line and a bad header', async () => {
    const file = [...lines];
    file[2] = '{"seq": "one"}';
    expect(await failuresOf(file)).toMatch(/line 3: not an event line/);
    const report = await verifyExport({ lines: ['{"format":"something else"}', ...lines.slice(1)] });
    expect(report.failureTexts().join('\n')).toMatch(
      /line 1: not a version 1 tessera.ledger.audit-export header/,
    );
  });
});
