import { createReadStream } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { parseHeader, parseLine } from './export-format.ts';
import { LedgerReplay } from './replay.ts';
import { Findings, Report } from './report.ts';
import { parsePublicKey } from './seal.ts';
import { type TrustedKey, trustedKey } from './seal-keys.ts';
import { ChainChecker, type KeyRing } from './verify.ts';

export interface VerifyExportOptions {
  /** The file's lines, header first, one by one or page by page (as `readLines` gives them). */
  lines: AsyncIterable<string | readonly string[]> | Iterable<string>;
  /** Called after each page with the number of events read so far. */
  onProgress?: (events: number) => void;
  /** The auditor's copy of the public key; without it the header's keys are trusted. */
  pinnedKey?: KeyObject;
  title?: string;
}

/**
 * Verifies an export with nothing but the file (and ideally a pinned public key): the chain, every
 * seal, and then the whole ledger replayed from the events in the file. Reads page by page, so the
 * file may be larger than memory.
 */
export async function verifyExport(options: VerifyExportOptions): Promise<Report> {
  const report = new Report(options.title ?? 'Tessera ledger audit: export');
  const format = new Findings();
  let checker: ChainChecker | undefined;
  const replay = new LedgerReplay();
  let lineNo = 0;

  let events = 0;
  for await (const item of options.lines) {
    for (const text of typeof item === 'string' ? [item] : item) {
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
        events += 1;
      }
    }
    options.onProgress?.(events);
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

/** The lines of a file page by page (one page per chunk read), with how many bytes were read so far. */
export function readLines(path: string): AsyncIterable<readonly string[]> & { readonly bytesRead: number } {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new StringDecoder('utf8');
  async function* pages(): AsyncGenerator<readonly string[]> {
    let rest = '';
    for await (const chunk of stream) {
      let text = rest + decoder.write(chunk as Buffer);
      // A CR at the end may be the first half of a CRLF: keep it for the next chunk.
      rest = text.endsWith('\r') ? '\r' : '';
      if (rest) text = text.slice(0, -1);
      const lines = text.split(LINE_BREAK);
      rest = lines.pop()! + rest;
      yield lines;
    }
    const last = rest + decoder.end();
    const lines = last.split(LINE_BREAK).filter((line, i, all) => i < all.length - 1 || line !== '');
    if (lines.length > 0) yield lines;
  }
  return {
    [Symbol.asyncIterator]: pages,
    get bytesRead() {
      return stream.bytesRead;
    },
  };
}

/** Line breaks as `readline` splits on them. */
const LINE_BREAK = /\r\n|\n|\r/;
