import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export const useColor =
  Boolean(process.env.FORCE_COLOR) || (process.stdout.isTTY && process.env.NO_COLOR === undefined);

const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];
let nextColor = 0;
let width = 'tessera'.length;

function paint(code: string | number, text: string): string {
  return useColor ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** Makes every `[name]` prefix as wide as the longest of these names. */
export function alignLabels(names: readonly string[]): void {
  width = Math.max(width, ...names.map((name) => name.length));
}

/** A coloured, padded `[name]` prefix; each new name takes the next colour. */
export function label(name: string): string {
  return paint(PALETTE[nextColor++ % PALETTE.length]!, `[${name}]`) + ' '.repeat(width - name.length + 1);
}

/** Prints every line of the given streams behind the prefix. */
export function prefixLines(prefix: string, ...streams: Array<Readable | null>): void {
  for (const stream of streams) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
      console.log(`${prefix}${line}`),
    );
  }
}

function runnerLabel(): string {
  return paint(1, '[tessera]') + ' '.repeat(width - 'tessera'.length + 1);
}

export function say(message: string): void {
  console.log(`${runnerLabel()}${message}`);
}

export function shout(message: string): void {
  console.error(`${runnerLabel()}${paint('1;31', message)}`);
}

export function dim(text: string): string {
  return paint(2, text);
}
