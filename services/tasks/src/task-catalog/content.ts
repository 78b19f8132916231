import { goldenAnswerSchemas, type TaskInput, taskInputSchemas, type TaskType } from '@tessera/contracts';
import { accept, type Decision, refusal, reject } from '@tessera/service-kit';

/**
 * What a task says, as pure rules: its typed input per task type, its golden answer, and the
 * normalised form of its requirements. Content that cannot be stored is refused as unprocessable
 * with the offending fields in `errors`.
 */

export interface RuleIssue {
  path: string;
  message: string;
}

type ContentCode = 'INVALID_TASK_INPUT' | 'GOLDEN_NOT_SUPPORTED' | 'INVALID_GOLDEN_ANSWER';

const fail = <T>(code: ContentCode, detail: string, errors: RuleIssue[] = []): Decision<T> =>
  reject(refusal('unprocessable', code, detail, errors.length > 0 ? { errors } : {}));

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
export function parseTaskInput<T extends TaskType>(type: T, input: unknown): Decision<TaskInput<T>> {
  const parsed = taskInputSchemas[type].safeParse(input);
  if (parsed.success) return accept(parsed.data as TaskInput<T>);
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
): Decision<Record<string, unknown> | null> {
  if (!golden.is_golden) {
    if (golden.golden_answer !== undefined && golden.golden_answer !== null) {
      return fail('INVALID_GOLDEN_ANSWER', 'golden_answer is only for golden tasks (is_golden: true).', [
        { path: 'golden_answer', message: 'must be absent or null unless is_golden is true' },
      ]);
    }
    return accept(null);
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
  return accept(answer);
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

/** ISO 3166-1 alpha-2 codes, upper case, once each. */
export function normaliseRegions(codes: readonly string[]): string[] {
  return [...new Set(codes.map((code) => code.toUpperCase()))];
}

/** Whether a value has at most one decimal (trust scores are numeric(3,1)). */
export function hasOneDecimal(value: number): boolean {
  const tenths = value * 10;
  return Math.abs(tenths - Math.round(tenths)) < 1e-9;
}

/** The typed input and golden answer of a task of `type`, checked: what is stored and published. */
export function decideContent(
  type: TaskType,
  body: { input: unknown; is_golden: boolean; golden_answer?: unknown },
): Decision<{ input: TaskInput; goldenAnswer: Record<string, unknown> | null }> {
  const input = parseTaskInput(type, body.input);
  if (!input.ok) return input;
  const golden = checkGolden(type, input.value, {
    is_golden: body.is_golden,
    golden_answer: body.golden_answer,
  });
  if (!golden.ok) return golden;
  return accept({ input: input.value, goldenAnswer: golden.value });
}
