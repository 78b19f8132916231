import { expect } from 'vitest';
import { type Decision, Refusal, type RefusalKind } from '../refusal.ts';

/**
 * Given / when / then for a pure decide function (after Emmett's DeciderSpecification): the state
 * the rule starts from, the command, and what it must decide. A decide function answers either a
 * `Decision` (accepted with a value, or refused) or a plain value, or throws a `Refusal`.
 *
 *   const spec = decider(decideClaim);
 *   spec.given(fullTask).when(claimCommand).thenRefuses('TASK_FULL', 'conflict');
 *   spec.given(openTask).when(claimCommand).then({ ... });
 */
export function decider<State, Command, Out>(decide: (state: State, command: Command) => Out) {
  return {
    given: (state: State) => ({
      when: (command: Command) => {
        const run = (): { value?: unknown; refusal?: Refusal } => {
          try {
            const out: unknown = decide(state, command);
            if (isDecision(out)) return out.ok ? { value: out.value } : { refusal: out.refusal };
            return { value: out };
          } catch (error) {
            if (error instanceof Refusal) return { refusal: error };
            throw error;
          }
        };
        return {
          /** It accepts, and decides exactly this (the Decision's value, or the plain result). */
          then(expected: [Out] extends [Decision<infer T>] ? T : Out): void {
            const outcome = run();
            expect(
              outcome.refusal,
              `refused: ${outcome.refusal?.code} ${outcome.refusal?.message}`,
            ).toBeUndefined();
            expect(outcome.value).toEqual(expected);
          },
          /** It accepts, and what it decides passes `check`. */
          thenMatches(check: (value: [Out] extends [Decision<infer T>] ? T : Out) => void): void {
            const outcome = run();
            expect(
              outcome.refusal,
              `refused: ${outcome.refusal?.code} ${outcome.refusal?.message}`,
            ).toBeUndefined();
            check(outcome.value as [Out] extends [Decision<infer T>] ? T : Out);
          },
          /** It refuses with this code (and kind, when given). */
          thenRefuses(code: string, kind?: RefusalKind): Refusal {
            const outcome = run();
            expect(outcome.refusal?.code, `expected ${code}, decided ${JSON.stringify(outcome.value)}`).toBe(
              code,
            );
            if (kind) expect(outcome.refusal?.kind).toBe(kind);
            return outcome.refusal!;
          },
        };
      },
    }),
  };
}

function isDecision(value: unknown): value is Decision<unknown> {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return false;
  const { ok } = value;
  return ok === true
    ? 'value' in value
    : ok === false && (value as { refusal?: unknown }).refusal instanceof Refusal;
}
