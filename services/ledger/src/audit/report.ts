/** A readable audit report: sections of ✓ / ✗ / ! lines; any ✗ makes the audit fail. */

export type Mark = 'ok' | 'fail' | 'warn' | 'info';

const symbols: Record<Mark, string> = { ok: '✓', fail: '✗', warn: '!', info: '·' };

export interface ReportLine {
  mark: Mark;
  text: string;
  details: string[];
}

/** Problems found by one check: all are counted, the first `limit` are kept to show. */
export class Findings {
  readonly shown: string[] = [];
  count = 0;

  constructor(readonly limit = 20) {}

  add(problem: string): void {
    this.count += 1;
    if (this.shown.length < this.limit) this.shown.push(problem);
  }

  get ok(): boolean {
    return this.count === 0;
  }
}

export class ReportSection {
  readonly lines: ReportLine[] = [];

  constructor(readonly title: string) {}

  add(mark: Mark, text: string, details: string[] = []): this {
    this.lines.push({ mark, text, details });
    return this;
  }

  ok(text: string): this {
    return this.add('ok', text);
  }

  fail(text: string, details: string[] = []): this {
    return this.add('fail', text, details);
  }

  warn(text: string, details: string[] = []): this {
    return this.add('warn', text, details);
  }

  info(text: string): this {
    return this.add('info', text);
  }

  /** ✓ `passed` when `findings` is empty, else ✗ `failed` with the count and the problems kept. */
  check(findings: Findings, passed: string, failed: string): this {
    if (findings.ok) return this.ok(passed);
    const details = [...findings.shown];
    if (findings.count > findings.shown.length)
      details.push(`… and ${findings.count - findings.shown.length} more`);
    return this.fail(`${failed}: ${plural(findings.count, 'problem')}`, details);
  }
}

export class Report {
  readonly sections: ReportSection[] = [];

  constructor(readonly title: string) {}

  section(title: string): ReportSection {
    const existing = this.sections.find((s) => s.title === title);
    if (existing) return existing;
    const section = new ReportSection(title);
    this.sections.push(section);
    return section;
  }

  private countOf(mark: Mark): number {
    return this.sections.reduce((n, s) => n + s.lines.filter((line) => line.mark === mark).length, 0);
  }

  get failures(): number {
    return this.countOf('fail');
  }

  get warnings(): number {
    return this.countOf('warn');
  }

  get passed(): boolean {
    return this.failures === 0;
  }

  /** Every failed line, for callers and tests that want the messages without the layout. */
  failureTexts(): string[] {
    return this.sections.flatMap((s) =>
      s.lines.filter((line) => line.mark === 'fail').flatMap((line) => [line.text, ...line.details]),
    );
  }

  render(): string {
    const out = [this.title, ''];
    for (const section of this.sections) {
      out.push(section.title);
      for (const line of section.lines) {
        out.push(`  ${symbols[line.mark]} ${line.text}`);
        for (const detail of line.details) out.push(`      ${detail}`);
      }
      out.push('');
    }
    const verdict = this.passed ? 'PASSED' : 'FAILED';
    out.push(`${verdict}: ${plural(this.failures, 'failed check')}, ${plural(this.warnings, 'warning')}`);
    return out.join('\n');
  }
}

export function plural(n: number | bigint, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 || n === 1n ? noun : nouns}`;
}

export function formatCount(n: number | bigint): string {
  return n.toLocaleString('en-US');
}
