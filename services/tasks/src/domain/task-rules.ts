import { goldenAnswerSchemas, type TaskType, taskInputSchemas, type TaskInput } from '@tessera/contracts';
import type { TaskStatus } from '../db/schema.ts';
import { primaryLanguage } from './eligibility.ts';

/**
 * Pure rules about a task as a company writes it: its typed input, its golden answer, the
 * normalised form of its requirements, how its status may move, and its feed score. No I/O; the
 * routes turn a `TaskRuleViolation` into a 4xx answer.
 */

export type TaskRuleCode =
  'INVALID_TASK_INPUT' | 'GOLDEN_NOT_SUPPORTED' | 'INVALID_GOLDEN_ANSWER' | 'TASK_CLOSED';

export interface RuleIssue {
  path: string;
  message: string;
}

export type RuleResult<T> =
  { ok: true; value: T } | { ok: false; code: TaskRuleCode; detail: string; errors: RuleIssue[] };

const fail = <T>(code: TaskRuleCode, detail: string, errors: RuleIssue[] = []): RuleResult<T> => ({
  ok: false,
  code,
  detail,
  errors,
});

function issuesOf(
  prefix: string,
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
) {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/**
 * Parses `input` with the schema of `type` (contracts' `taskInputSchemas`): the stored input is
 * the parsed one, defaults filled in, so every consumer reads the same complete shape.
 */
export function parseTaskInput<T extends TaskType>(type: T, input: unknown): RuleResult<TaskInput<T>> {
  const parsed = taskInputSchemas[type].safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data as TaskInput<T> };
  const errors = issuesOf('input', parsed.error);
  return fail(
    'INVALID_TASK_INPUT',
    `The input is not a valid ${type} task input: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    errors,
  );
}

/** Task types whose work has one known right answer, so a golden copy can score it. */
export function supportsGolden(type: TaskType): boolean {
  return goldenAnswerSchemas[type] !== null;
}

/**
 * A golden task carries the known answer QC scores submissions against; it must be valid for its
 * type and consistent with the input (the option, labels or answer must be among those offered).
 * Audio and text captures have no single right answer, so they cannot be golden. A task that is
 * not golden carries no answer.
 */
export function checkGolden(
  type: TaskType,
  input: TaskInput,
  golden: { is_golden: boolean; golden_answer: unknown },
): RuleResult<Record<string, unknown> | null> {
  if (!golden.is_golden) {
    if (golden.golden_answer !== undefined && golden.golden_answer !== null) {
      return fail('INVALID_GOLDEN_ANSWER', 'golden_answer is only for golden tasks (is_golden: true).', [
        { path: 'golden_answer', message: 'must be absent or null unless is_golden is true' },
      ]);
    }
    return { ok: true, value: null };
  }
  const schema = goldenAnswerSchemas[type];
  if (schema === null) {
    return fail(
      'GOLDEN_NOT_SUPPORTED',
      `${type} tasks have no single right answer, so they cannot be golden.`,
    );
  }
  if (golden.golden_answer === undefined || golden.golden_answer === null) {
    return fail('INVALID_GOLDEN_ANSWER', 'A golden task needs its golden_answer.', [
      { path: 'golden_answer', message: 'is required when is_golden is true' },
    ]);
  }
  const parsed = schema.safeParse(golden.golden_answer);
  if (!parsed.success) {
    const errors = issuesOf('golden_answer', parsed.error);
    return fail(
      'INVALID_GOLDEN_ANSWER',
      `The golden_answer is not valid for a ${type} task: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      errors,
    );
  }
  const answer = parsed.data as Record<string, unknown>;
  const mismatch = answerMismatch(type, input, answer);
  if (mismatch) return fail('INVALID_GOLDEN_ANSWER', mismatch.message, [mismatch]);
  return { ok: true, value: answer };
}

/** The golden answer must be one the contributor could give with this input. */
function answerMismatch(type: TaskType, input: TaskInput, answer: Record<string, unknown>): RuleIssue | null {
  switch (type) {
    case 'validation': {
      const { options } = input as TaskInput<'validation'>;
      return options.includes(answer.option as string)
        ? null
        : { path: 'golden_answer.option', message: 'must be one of input.options' };
    }
    case 'image': {
      const { labels, multi_label } = input as TaskInput<'image'>;
      const chosen = answer.labels as string[];
      if (labels.length > 0 && chosen.some((label) => !labels.includes(label))) {
        return { path: 'golden_answer.labels', message: 'must all be among input.labels' };
      }
      if (!multi_label && chosen.length > 1) {
        return { path: 'golden_answer.labels', message: 'must hold one label when multi_label is false' };
      }
      return null;
    }
    case 'linguasense': {
      const { options } = input as TaskInput<'linguasense'>;
      return options === null || options.includes(answer.answer as string)
        ? null
        : { path: 'golden_answer.answer', message: 'must be one of input.options' };
    }
    default:
      return null;
  }
}

/**
 * Languages are kept as their primary subtags, lower case, once each (`es-MX`, `ES` → `es`): the
 * feed matches them with a plain array overlap, the same rule `ineligibility` applies.
 */
export function normaliseLanguages(tags: readonly string[]): string[] {
  return [...new Set(tags.map(primaryLanguage))];
}

/** ISO 3166-1 alpha-2 codes, upper case, once each. */
export function normaliseRegions(codes: readonly string[]): string[] {
  return [...new Set(codes.map((code) => code.toUpperCase()))];
}

/** Whether a task's status may move from `from` to `to`; staying put is always allowed. */
export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  if (from === to) return true;
  if (isClosed(from)) return false;
  // active ⇄ paused by hand; either may close for good (archived by the company, completed).
  return true;
}

/** Archived and completed tasks are final: nothing about them changes any more. */
export function isClosed(status: TaskStatus): boolean {
  return status === 'archived' || status === 'completed';
}

export type StatusChange = 'paused' | 'resumed' | 'archived' | 'completed' | null;

/** What a status change announces (`tasks.task.paused/resumed/closed`), or null when none. */
export function statusChange(from: TaskStatus, to: TaskStatus): StatusChange {
  if (from === to) return null;
  if (to === 'paused') return 'paused';
  if (to === 'active') return 'resumed';
  return to;
}

/**
 * The seed's feed score with rewards in minor units:
 * `(priority ? 10 : 0) + (10 − taken / max × 10) + reward / 1000` (reward in cents / 1000 = the
 * seed's dollars / 10). Same operations in the same order as the stored `tasks.priority_score`
 * column, so both give the same double.
 */
export function priorityScore(task: {
  is_priority: boolean;
  slots_taken: number;
  max_submissions: number;
  reward_amount: number;
}): number {
  return (
    (task.is_priority ? 10 : 0) +
    (10 - (task.slots_taken / task.max_submissions) * 10) +
    task.reward_amount / 1000
  );
}

/** Whether a value has at most one decimal (trust scores are numeric(3,1)). */
export function hasOneDecimal(value: number): boolean {
  const tenths = value * 10;
  return Math.abs(tenths - Math.round(tenths)) < 1e-9;
}
