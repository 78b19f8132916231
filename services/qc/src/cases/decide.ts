import { answerKey, type Answer } from '../consensus/index.ts';

/**
 * A golden task's submission is decided at once against the known answer: approved when the
 * contributor's answer is the golden one, rejected (`GOLDEN_MISMATCH`) otherwise. Label sets compare
 * as sets; free-text answers (linguasense) compare ignoring case, punctuation and spacing.
 * Undefined when the case cannot be checked this way (no golden answer, or no answer to compare):
 * it goes to judges like any other.
 */
export function decideGolden(
  golden: Record<string, unknown> | null,
  answer: Record<string, unknown> | null,
): { verdict: 'approve' | 'reject'; reasonCodes: string[] } | undefined {
  if (golden === null || answer === null) return undefined;
  const expected = comparable(golden);
  const given = comparable(answer);
  if (expected === undefined || given === undefined) return undefined;
  return expected === given
    ? { verdict: 'approve', reasonCodes: [] }
    : { verdict: 'reject', reasonCodes: ['GOLDEN_MISMATCH'] };
}

/** A key two equal answers share, or undefined for a shape golden checks do not know. */
function comparable(answer: Record<string, unknown>): string | undefined {
  if (typeof answer.answer === 'string') return `text:${normaliseText(answer.answer)}`;
  if (typeof answer.option === 'string') return answerKey({ option: answer.option });
  if (answer.preferred === 'a' || answer.preferred === 'b' || answer.preferred === 'tie')
    return answerKey({ preferred: answer.preferred });
  if (Array.isArray(answer.labels) && answer.labels.every((label) => typeof label === 'string'))
    return answerKey({ labels: answer.labels } satisfies Answer);
  return undefined;
}

const normaliseText = (text: string) =>
  text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
