import { createReadStream } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseHeader, parseLine } from './export-format.ts';
import { LedgerReplay } from './replay.ts';
import { Findings, Report } from './report.ts';
import { parsePublicKey } from './seal.ts';
import { type TrustedKey, trustedKey } from './seal-keys.ts';
import { ChainChecker, type KeyRing } from './verify.ts';

export interface VerifyExportOptions {
  /** The file's lines, header first. */
  lines: AsyncIterable<string> | Iterable<string>;
  /** The auditor's copy of the public key; without it the header's keys are trusted. */
  pinnedKey?: KeyObject;
  title?: string;
}

/**
 * Verifies an export with nothing but the file (and ideally a pinned public key): the chain, every
 * seal, and then the whole ledger replayed from the events in the file. Reads line by line, so the
 * file may be larger than memory.
 */
export async function verifyExport(options: VerifyExportOptions): Promise<Report> {
  const report = new Report(options.title ?? 'Tessera ledger audit: export');
  const format = new Findings();
  let checker: ChainChecker | undefined;
  const replay = new LedgerReplay();
  let lineNo = 0;

  for await (const text of options.lines) {
    lineNo += 1;
    if (text.trim() === '') continue;
    if (!checker) {
      const header = parseHeader(text);
      if (typeof header === 'string') {
        report.section('File').fail(`line ${lineNo}: ${header}`);
        return report;
      }
      const fromHeader: TrustedKey[] = [];
      for (const key of header.public_keys) {
        try {
          const trusted = trustedKey(parsePublicKey(key.public_key), key.created_at);
          if (trusted.keyId !== key.key_id)
            format.add(`header: key ${key.key_id} is really key ${trusted.keyId}`);
          fromHeader.push(trusted);
        } catch (error) {
          format.add(`header: key ${key.key_id} is not an Ed25519 public key: ${(error as Error).message}`);
        }
      }
      const ring: KeyRing = options.pinnedKey
        ? { keys: [trustedKey(options.pinnedKey)], pinned: true, source: 'the auditor' }
        : { keys: fromHeader, pinned: false, source: "the file's own header" };
      checker = new ChainChecker(ring);
      report.section('File').info(`export of ${header.created_at}, format version ${header.version}`);
      continue;
    }
    const line = parseLine(text);
    if (line.kind === 'invalid') format.add(`line ${lineNo}: ${line.problem}`);
    else if (line.kind === 'seal') checker.seal(line.seal);
    else {
      checker.link(line.line.seq, line.line.event, line.line.prev_hash, line.line.hash);
      replay.apply({ seq: line.line.seq, ...line.line.event });
    }
  }

  const file = report.section('File');
  if (!checker) {
    file.fail('the file is empty: no header');
    return report;
  }
  file.check(
    format,
    `${lineNo.toLocaleString('en-US')} lines read, every line well-formed`,
    'malformed lines',
  );
  checker.report(report, { strictSeals: true });
  replay.report(report);
  return report;
}

export function readLines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
}
